"""What kind of fact a question asks for, and whether a sentence states one.

"Combien de candidatures…" wants a count, "À quelle fréquence…" a frequency, "Que
signifie CEAC ?" the expansion of CEAC. A sentence on the right subject that states no
fact of that kind does not answer the question: sentence choice prefers typed
sentences, and a typed question with no typed sentence among its evidence abstains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from kb.dates import MONTH_PATTERN as _MONTHS
from kb.text import fold
from kb.vocabulary import ACRONYM, FUNCTION_WORDS, NOUN_PREFIX, STOPWORDS, same_stem


_NUMBER_WORDS = (
    "deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|quinze|vingt|trente|quarante|cinquante|soixante|"
    "cent|cents|mille|million|millions|milliard|milliards|dizaine|douzaine|centaine|"
    "two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|hundred|"
    "thousand|million|billion|dozen"
)
_DATE = re.compile(
    rf"\b\d{{1,2}}(?:er)?\s+(?:{_MONTHS})(?:\s+\d{{4}})?\b|\b(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}\b|"
    rf"\b(?:{_MONTHS})\s+\d{{4}}\b|\b(?:19|20)\d\d\b|\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b|\b\d{{4}}-\d\d-\d\d\b",
    re.I,
)
_COUNT = re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.I)
_UNIT = (
    r"(?:jours?|semaines?|mois|ans?|années?|heures?|minutes?|trimestres?|"
    r"days?|weeks?|months?|years?|hours?|minutes?|quarters?)"
)


@dataclass(frozen=True)
class AnswerType:
    """A kind of fact: its name, the test a sentence's text must pass, and the words of
    the question that ask for it ("à quelle fréquence", "que signifie le sigle")."""

    name: str
    stated_by: Callable[[str], bool]
    cue: str = ""
    # For a count, what is counted: the folded words after "combien de" / "how many", the
    # noun first ("mentors sénégalais" -> ("mentors", "senegalais")).
    counted: tuple[str, ...] = ()
    # What the counted noun is of, in French compounds: "jours de congés" -> "conges".
    compound: str = ""

    def stated(self, text: str) -> bool:
        """Does `text` state a fact of this kind (for a count, a count of what is asked)?"""
        if self.counted:
            return self.counts_what_is_asked(text)
        return self.stated_by(text)

    def counts_what_is_asked(self, text: str) -> bool:
        """Does a number in `text` count what the question counts ("10 défis" for
        "Combien de défis…")? The counted noun itself must follow the number closely: "15
        start-up sénégalaises" counts no "mentors sénégalais". True when the question names
        nothing to count."""
        if not self.counted:
            return True
        words = [fold(w) for w in WORD_TOKEN.findall(_DATE.sub(" ", text))]
        # Which side's people or start-ups are counted matters: "15 start-up" (the CEAC's
        # Senegalese selection) does not count "start-up azerbaïdjanaises".
        for side in {_side(c) for c in self.counted} - {None}:
            if not any(_side(w) == side for w in words):
                return False
        # "Combien de jours de congés…": days of leave, not days before a mission.
        if self.compound and not any(same_stem(w, self.compound, NOUN_PREFIX) for w in words):
            return False
        noun = self.counted[0]
        for i, word in enumerate(words):
            if any(same_stem(w, noun, NOUN_PREFIX) for w in words[i + 1 : i + _reach(word)]):
                return True
        # Lists and tables put the number after its label: "Start-up accompagnées … : 15 en 2026".
        return any(_LABELLED.search(fold(line)) and same_stem(_first_word(line), noun, NOUN_PREFIX)
                   for line in _LABEL_LINES.split(text))


# The programme's two sides, as their folded names and adjectives begin in French and
# English: "sénégalaises", "Senegalese", "azerbaïdjanais", "Azerbaijani".
_SIDES = {"senegal": "senegal", "azerbaidjan": "azerbaijan", "azerbaijan": "azerbaijan"}


_ONE = frozenset(("un", "une", "one"))
# A label ending in a colon, then a number: "… : 15 en 2026", "Composition : 8 membres".
_LABELLED = re.compile(rf"^[^:]{{0,160}}:\s*(?:\d|(?:{_NUMBER_WORDS})\b)", re.I)
_LABEL_LINES = re.compile(r"\n|;\s|\.\s")


def _is_number(word: str) -> bool:
    return word.isdigit() or all(_COUNT.fullmatch(part) for part in re.split("[-–]", word))


def _reach(word: str) -> int:
    """How far past `word` (folded or lower-case) the noun it counts may stand: three words
    after a number, only the next one after "une réunion", "one meeting"; none otherwise."""
    return 2 if word in _ONE else 4 if _is_number(word) else 0


def _first_word(text: str) -> str:
    match = WORD_TOKEN.search(text)
    return fold(match.group(0)) if match else ""


def _side(word: str) -> str | None:
    """The side of the programme a folded word names or qualifies, if any."""
    return next((side for stem, side in _SIDES.items() if word.startswith(stem)), None)


def _counted(question: str) -> tuple[str, ...]:
    """The words naming what a count question counts, up to the first function word, the
    noun first: "Combien de jours de congés…" -> ("jours",), "How many ASAN service centres
    are…" -> ("centres", "asan", "service")."""
    match = _COUNTED.search(question)
    if not match or re.match(r"(?:entre|of them|of these|of those)\b", match.group("what"), re.I):
        return ()  # "combien d'entre elles…": what is counted is in the previous question
    words: list[str] = []
    for word in WORD_TOKEN.findall(match.group("what")):
        folded = fold(word)
        if folded in STOPWORDS or folded in FUNCTION_WORDS or len(words) == 3:
            break
        words.append(folded)
    if words and re.match(r"how|number", match.group(0), re.I):
        # English puts the noun last ("Azerbaijani civil servants"), after its modifiers.
        words = _without_participles(words)
        words.insert(0, words.pop())
    elif len(words) > 1 and words[0] in _BEFORE_NOUN:
        # The few French adjectives that come first: "combien de grandes ambitions".
        words.append(words.pop(0))
    return tuple(words)


_BEFORE_NOUN = frozenset(
    "grand grande grands grandes petit petite petits petites nouveau nouvel nouvelle nouveaux nouvelles "
    "principal principale principaux principales autre autres gros grosse grosses seul seule seuls seules "
    "differents differentes divers diverses".split()
)


def _without_participles(words: list[str]) -> list[str]:
    # A trailing English participle is no noun: "people attended", "the ambassador accredited".
    while len(words) > 1 and words[-1].endswith("ed"):
        words = words[:-1]
    return words


def _pattern(regex: str) -> Callable[[str], bool]:
    compiled = re.compile(regex, re.I)
    return lambda text: compiled.search(text) is not None


def _counts(text: str) -> bool:
    # A count is a number that is not part of a date: "le 27 mars 2026" counts nothing.
    return _COUNT.search(_DATE.sub(" ", text)) is not None


# Each kind: what the question says, then what a sentence stating such a fact contains.
# First match wins, so the narrow kinds come before the broad ones ("combien de temps"
# is a duration, not a count).
_TIME_ASKED = r"\b(à|a) quelle heure\b|\bwhat time\b"
_TIME_STATED = r"\b\d{1,2} ?(h|heures?)\b|\b\d{1,2}[:.]\d{2}\b|\b\d{1,2} ?(am|pm|a\.m\.|p\.m\.)"
_PERCENTAGE_ASKED = (r"\b(quel(le)?s?|what|which) (part|pourcentage|proportion|share|percentage|taux)\b|"
                     r"\bcombien de pour ?cent\b|\bhow much of\b")
_PERCENTAGE_STATED = r"%|\bpour ?cent\b|\bpercent\b"
_MONEY_ASKED = (r"\bcombien (coût|co[uû]te|a co[uû]té|vaut)|\b(quel(le)?|what) (est le |is the )?"
                r"(montant|budget|coût|cout|cost|amount|enveloppe|envelope|price|prix)\b|"
                r"\bhow much (does|did|will|would|money)\b")
_MONEY_STATED = r"\b(FCFA|F ?CFA|XOF|AZN|manats?|euros?|dollars?|USD|EUR|francs?)\b|[€$]"
_FREQUENCY_ASKED = (r"\bà quelle fréquence\b|\bquelle (est la )?(fréquence|périodicité)\b|"
                    r"\bhow (often|frequently)\b|\btous les combien\b")
_FREQUENCY_STATED = (r"\bfois par\b|\bpar (an|mois|semaine|trimestre|semestre|jour)\b|\b(times|once|twice) (a|per|every)\b|"
                     r"\bper (year|month|week|quarter|day)\b|\bevery\b|\bchaque\b|\btou(te)?s les\b|mensuel|annuel|"
                     r"trimestriel|semestriel|hebdomadaire|quotidien|monthly|quarterly|weekly|yearly|annually|daily")
_RANK_ASKED = r"\bquel rang\b|\b(what|which) (rank|position|place)\b|\bclassé\w* (à la )?quel\w*\b|\branked\b"
_RANK_STATED = r"\b\d+\s*(e|è|ème|eme|er|re|th|st|nd|rd)\b|\b(rang|rank|position|place)\s*(n°\s*)?\d+"
_DURATION_ASKED = (r"\bcombien de temps\b|\bhow long\b|\bquelle (est la )?durée\b|\bpendant combien\b|"
                   r"\bdans quel délai\b|\bquel (est le )?(délai|préavis)\b|\bwhat (notice|period|time limit)\b|"
                   r"\bwithin (what|how many)\b|\bfor how (long|many)\b|\bquel âge\b|\bhow old\b|\bwhat age\b")
_DURATION_STATED = rf"(\d+|\b(un|une|demi|{_NUMBER_WORDS}))[\s-]+([\w()]+[\s-]+)?{_UNIT}\b|\b(une|a|an|half an?) {_UNIT}\b"
# "Quel jour…", "À quelle date…", "On what date…" want a day, not just a month or a quarter.
_DAY_ASKED = r"\bquel jour\b|\b(à |a )?quelle date\b|\b(on )?(what|which) (date|day)\b"
_DAY_STATED = (rf"\b\d{{1,2}}(er)?\s+({_MONTHS})\b|\b({_MONTHS})\s+\d{{1,2}}(st|nd|rd|th)?\b|"
               r"\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{4}-\d\d-\d\d\b")
_DATE_ASKED = (r"\bquand\b|\bwhen\b|\b(quelle|what|which|on what) (échéance|deadline)\b|"
               r"\bby when\b|\bd'ici quand\b|\b(en|in) quelle année\b|\bwhat year\b|\bdate limite\b|"
               r"^\W*(date|deadline|échéance)\b|\bdate (de|d'|of)\b")
_DATE_STATED = rf"\b({_MONTHS})\b|\b(19|20)\d\d\b|\b\d{{1,2}}/\d{{1,2}}/\d{{2,4}}\b|\bT[1-4]\b|\bQ[1-4]\b"
_COUNT_ASKED = (r"\bcombien\b|\bhow many\b|\bquel(le)? (nombre|score|note)\b|\bwhat (number|score)\b|"
                r"\b(quel|what) (est le |is the )?(nombre|score|number)\b")

# "Comment s'appelle…", "Quel est le nom de code…", "What is the name of…".
_NAME_ASKED = (r"\bcomment s['’]appel\w*|\bcomment se nomm\w*|\bquel(le)? est (le|son|leur) nom\b|\bnom de code\b|"
               r"\bwhat(?: is|'s) (?:the|its|their|his|her) (?:code )?name\b|\bcode name\b|\bwhat is .{1,40} called\b")
_QUOTED_OR_NAMING = re.compile(
    r"«\s*[^»]{2,60}»|“[^”]{2,60}”|\b(appel[ée]e?s?|baptis[ée]e?s?|nomm[ée]e?s?|dénomm[ée]e?s?|intitul[ée]e?s?|"
    r"nom de code|called|named|known as|code name)\b",
    re.I,
)
# Case matters here: "…, ASAN İmza, …" is a name, "…, directeur général de SENUM, …" is not.
_APPOSITION = re.compile(r",\s+(?:[A-ZÀ-ÝİŞ][\w'’-]*\s+){0,3}[A-ZÀ-ÝİŞ][\w'’-]*\s*,")


def _named_heads(question: str) -> tuple[str, ...]:
    """The noun naming what a name question asks the name of, folded: "Comment s'appelle le
    directeur général…" -> ("directeur",), "What is the name of the CEAC's focal point?" ->
    ("point",), "What is the ASAN mobile signature called?" -> ("signature",)."""
    french = re.search(r"(?:s['’]appel\w*|se nomm\w*|\bnom(?: de code)?)\s+(?:(?:de|d['’]|du|des)\s*)?"
                       r"(?:(?:le|la|les|l['’]|son|sa|ses|leur)\s*)?(?P<head>[^\W\d_][\w-]*)", question, re.I)
    english = re.search(r"\bname of (?:the |its |their |his |her )?(?P<phrase>[^?]+?)(?=\s+(?:who|that|which|of|in|for|at|"
                        r"on|with|to)\b|\s*[?,.]|$)|\bwhat is (?:the |its )?(?P<called>[^?]+?) called\b", question, re.I)
    heads = []
    if french:
        heads.append(fold(french.group("head")))
    if english:
        phrase = english.group("phrase") or english.group("called")
        words = _without_participles(re.sub(r"['’]s\b", "", phrase).split())
        heads.append(fold(words[-1]))
    return tuple(h for h in heads if h not in STOPWORDS)


def _names_of(question: str) -> Callable[[str], bool]:
    heads = _named_heads(question)

    def stated(text: str) -> bool:
        # The name must come with what it names: "ASAN İmza" names a signature, not a director.
        if not _names(text):
            return False
        return not heads or any(same_stem(fold(w), h, NOUN_PREFIX) for w in WORD_TOKEN.findall(text) for h in heads)

    return stated


def _names(text: str) -> bool:
    # A sentence gives a name when it quotes one, uses a naming verb, or sets a capitalised
    # phrase off by commas ("a mobile signature, ASAN İmza, which…"). Capitalised words alone
    # say nothing: institutions and places are capitalised in almost every sentence.
    return _QUOTED_OR_NAMING.search(text) is not None or _APPOSITION.search(text) is not None


_KINDS: list[tuple[str, re.Pattern[str], Callable[[str], bool]]] = [
    (name, re.compile(asked, re.I), stated if callable(stated) else _pattern(stated))
    for name, asked, stated in (
        ("name", _NAME_ASKED, _names),
        ("time", _TIME_ASKED, _TIME_STATED),
        ("percentage", _PERCENTAGE_ASKED, _PERCENTAGE_STATED),
        ("money", _MONEY_ASKED, _MONEY_STATED),
        ("frequency", _FREQUENCY_ASKED, _FREQUENCY_STATED),
        ("rank", _RANK_ASKED, _RANK_STATED),
        ("duration", _DURATION_ASKED, _DURATION_STATED),
        ("day", _DAY_ASKED, _DAY_STATED),
        ("date", _DATE_ASKED, _DATE_STATED),
        ("count", _COUNT_ASKED, _counts),
    )
]

_DEFINITION = re.compile(
    r"\b(que|qu'est-ce que) (signifie|veut dire|désigne)\b|\bsignification\b|\bsens du sigle\b|"
    r"\bwhat (does|do) .{1,20} stand for\b|\bmeaning of\b|\bwhat is meant by\b|\bstands? for\b|\bsigle\b|\bacronyme?\b",
    re.I,
)
_COUNTED = re.compile(r"\b(?:combien d(?:e\s+|['’])|how many\s+|nombre d(?:e\s+|['’])|number of\s+)(?P<what>[^?]+)", re.I)
# "combien de jours de congés", "combien de bourses d'échange": a noun after "de" with no
# article names the kind of thing counted ("de la semaine" does not).
_COMPOUND = re.compile(
    r"\bcombien d(?:e\s+|['’])\S+\s+d(?:e\s+|['’])(?!(?:la|le|les|l|ce|cette|ces|son|sa|ses|leur|leurs)\b)"
    r"(?P<of>[^\W\d_][\w-]*)", re.I)
# A word, hyphenated compounds kept whole ("start-up", "trente-quatre"); also used by bot.answer.
WORD_TOKEN = re.compile(r"[^\W_]+(?:[-–][^\W_]+)*")
def answer_type(question: str) -> AnswerType | None:
    """The kind of fact `question` asks for, when it says (else None)."""
    definition = _DEFINITION.search(question)
    if definition:
        acronyms = [a for a in ACRONYM.findall(question) if a not in ("EN", "FR")]
        if acronyms:
            name = re.escape(acronyms[-1])
            # "CEAC : Commission…", "CEAC (Commission…", "…start-up (CEAC)", "ASAN means…"
            return AnswerType("definition", _pattern(
                rf"\b{name}\b\s*[:=(–—-]\s*\w|\({name}\)|"
                rf"\b{name}\b.{{0,60}}\b(means|signifie|veut dire|stands for|désigne)\b"), definition.group(0))
    for name, asks, stated in _KINDS:
        cue = asks.search(question)
        if cue:
            if name == "name":
                stated = _names_of(question)  # a name, and next to it what it names
            elif name == "count":
                compound = _COMPOUND.search(question)
                return AnswerType(name, stated, cue.group(0), _counted(question),
                                  fold(compound.group("of")) if compound else "")
            return AnswerType(name, stated, cue.group(0))
    return None
