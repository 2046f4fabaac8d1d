"""The cue ablation's variants: each switches exactly what it names off."""

from __future__ import annotations

from evals.ablation import BASE, VARIANTS
from bot.query import parse_query


def test_the_no_kind_variants_hide_the_kind_and_count_its_cue_words() -> None:
    query = parse_query("Que signifie le sigle CEAC ?")
    assert query.kind is not None and "signifie" not in [w for w, _ in query.salient]
    for name in ("no_answer_type", "no_cues"):
        fields = VARIANTS[name][1](query)
        assert fields["kind"] is None and ("signifie", False) in fields["salient"], name
    assert VARIANTS["base"][1](query) == {}


def test_every_variant_but_the_base_switches_something_off() -> None:
    query = parse_query("Combien de start-up la CEAC accompagnera-t-elle en 2027 ?")
    for name, (config, fields) in VARIANTS.items():
        assert (config == BASE and not fields(query)) == (name == "base"), name
