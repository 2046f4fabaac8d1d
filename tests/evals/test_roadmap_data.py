"""The roadmap evaluation's blind documents and labels are consistent: every label quotes its
document, ids are unique, expected merges name labels of two different documents, and the
documents stay illustrative and out of the corpus."""

from __future__ import annotations

from evals.roadmap import BLIND, BLIND_LABELS, BLIND_MERGES, load_corpus, load_labels, load_merges, owner_names
from tests.conftest import PROJECT_ROOT


def test_blind_labels_quote_their_documents_and_merges_name_labels() -> None:
    documents = load_corpus(BLIND, PROJECT_ROOT)
    labels = load_labels(BLIND_LABELS)
    assert len(documents) == 3 and all(doc.meta.illustrative for doc in documents.values())
    assert all(not path.startswith("corpus/") for path in documents)
    ids = [label.id for label in labels]
    assert len(ids) == len(set(ids)) == len(labels) >= 25
    for label in labels:
        text = " ".join(documents[label.path].text.split())
        assert " ".join(label.quote.replace(" |", "").replace("| ", "").split()) in text.replace(" |", "").replace("| ", ""), label.id
    by_id = {label.id: label for label in labels}
    for first, second in load_merges(BLIND_MERGES):
        assert by_id[first].path != by_id[second].path


def test_owner_names_fold_titles_articles_and_acronyms() -> None:
    assert owner_names("M. Diallo (SENUM) / ARTP") == owner_names("Mr Diallo (SENUM) and ARTP")
    assert owner_names("The Digital Skills Office (DSO)") == {"dso"} == owner_names("DSO")
    assert owner_names("M. Diallo (SENUM)") != owner_names("SENUM")


def test_heldout_labels_quote_their_documents() -> None:
    from evals.roadmap import HELDOUT, HELDOUT_LABELS

    documents = load_corpus(HELDOUT, PROJECT_ROOT)
    labels = load_labels(HELDOUT_LABELS)
    assert len(documents) == 3 and all(doc.meta.illustrative for doc in documents.values())
    ids = [label.id for label in labels]
    assert len(ids) == len(set(ids)) == len(labels) >= 15
    for label in labels:
        assert " ".join(label.quote.split()) in " ".join(documents[label.path].text.split()), label.id
