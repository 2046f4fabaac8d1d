"""The reader's training lists: what counts as an answerable list and as "not in the documents"."""

import random

from evals.piaf_reader import Paragraph, Question
from tools.train_reader import make_examples, near_miss, without_answer

TEXT = ("Dakar est la capitale du Sénégal. La ville compte environ 1,2 million d'habitants. "
        "Elle a été fondée en 1857 sur le site d'un village lébou. Son port est l'un des plus actifs de la région.")


def _paragraph() -> Paragraph:
    spans, start = [], 0
    for part in TEXT.split(". "):
        end = start + len(part) + (0 if part.endswith(".") else 1)
        spans.append((start, end))
        start = end + 1
    return Paragraph("Dakar", TEXT, spans, "train")


def test_without_answer_leaves_out_the_gold_sentence_and_any_holding_the_answer():
    para = _paragraph()
    assert para.sentence(2).startswith("Elle a été fondée en 1857")
    q = Question("En quelle année Dakar a-t-elle été fondée ?", 0, 2, "1857", "train")
    assert without_answer(q, para) == [0, 1, 3]
    # The answer text stated in another sentence too: that sentence is no negative.
    q2 = Question("Quelle est la capitale du Sénégal ?", 0, 0, "dakar", "train")
    assert 0 not in without_answer(q2, para)


def test_removed_answer_lists_target_not_in_the_documents():
    para = _paragraph()
    q = Question("En quelle année Dakar a-t-elle été fondée ?", 0, 2, "1857", "train")
    examples = make_examples([q], [[]], [para], random.Random(1), {}, other_rate=0.0, removed_rate=1.0)
    answerable = [e for e in examples if e.target]
    removed = [e for e in examples if not e.target]
    assert len(answerable) == 1 and answerable[0].candidates[answerable[0].target - 1] == (0, 2)
    assert len(removed) == 1
    assert (0, 2) not in removed[0].candidates and removed[0].candidates
    # Rate 0: no such list.
    assert all(e.target for e in make_examples([q], [[]], [para], random.Random(1), {}, 0.0, 0.0))


def test_near_miss_swaps_a_year_the_paragraph_does_not_contain():
    para = _paragraph()
    q = Question("Que s'est-il passé à Dakar en 1857 ?", 0, 2, "fondée", "train")
    text = near_miss(q, para, ["Lisbonne"], random.Random(3))
    assert text is not None and text != q.text
    swapped = [w for w in text.split() if w not in q.text.split()]
    assert swapped and all(w not in TEXT for w in swapped)


def test_list_loss_without_a_teacher_is_the_cross_entropy_against_not_in_the_documents() -> None:
    import torch

    from tools.train_reader import list_loss

    logits = torch.tensor([2.0, -1.0, 0.5])
    expected = -torch.log_softmax(torch.tensor([0.0, 2.0, -1.0, 0.5]), dim=0)[1]
    assert torch.isclose(list_loss(logits, 1), expected)
    # A teacher with no weight changes nothing.
    assert torch.isclose(list_loss(logits, 1, torch.tensor([-3.0, 4.0, 0.0]), weight=0.0), expected)


def test_list_loss_pulls_the_logits_towards_the_teachers_including_not_in_the_documents() -> None:
    import torch

    from tools.train_reader import list_loss

    teacher = torch.tensor([-2.0, 3.0, -0.5])
    same = teacher.clone().requires_grad_(True)
    loss = list_loss(same, 0, teacher, weight=1.0)
    loss.backward()
    assert abs(float(loss.detach())) < 1e-6 and float(same.grad.abs().max()) < 1e-6, \
        "a student equal to its teacher has nothing to learn"

    # Every logit 2 above the teacher's: the same ranking, but surer than "not in the documents"
    # allows; the teacher's part of the loss pulls all of them down.
    student = (teacher + 2.0).requires_grad_(True)
    list_loss(student, 0, teacher, weight=1.0, temperature=2.0).backward()
    assert bool((student.grad > 0).all()), student.grad
    stepped = student.detach() - 0.5 * student.grad
    assert float(list_loss(stepped, 0, teacher, weight=1.0, temperature=2.0)) < float(
        list_loss(student.detach(), 0, teacher, weight=1.0, temperature=2.0))
