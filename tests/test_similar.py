"""Finding references: the other copies of the same story in a corpus, and nothing else."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from repair.corpus.similar import SimilarityIndex, find_references, similarity

# a second story told by three outlets in their own words, and two texts about nothing of the kind
FLOOD_STORY = [
    """\
MILLBROOK, Ore. (AP) — Floodwaters from the swollen Kessel River closed the old Harbor Street bridge on
Wednesday, cutting the town's only direct route to the regional hospital and forcing ambulances onto a
40-minute detour through the hills.
County engineers found a crack in a support pier after the river rose nearly nine feet overnight. "We are not
going to gamble with people's lives on a structure we cannot inspect underwater," county engineer Dana
Whitfield told reporters at a news conference. "The bridge stays closed until the water drops and divers can
look at every pier."
Mayor Luis Ortega said the town would open a temporary clinic in the high school gymnasium and asked residents
to avoid nonessential travel. "This is exactly the scenario we warned the state about three years ago," Ortega
said. "Millbrook cannot keep depending on a bridge built in 1931."
The state transportation department said it would send an emergency inspection team on Thursday. Forecasters
expect the river to crest late Thursday before slowly falling through the weekend.
""",
    """\
Harbor Street bridge shut as Kessel River floods Millbrook
Residents of Millbrook woke up on Wednesday to find the Harbor Street bridge barricaded, after engineers
spotted a crack in one of its piers as the Kessel River surged almost nine feet in a single night.
The closure leaves the small Oregon town without its direct link to the regional hospital. Ambulances now take
a detour of about 40 minutes along hill roads.
"We are not going to gamble with people's lives on a structure we cannot inspect underwater," said Dana
Whitfield, the county engineer. She said the bridge stays closed until the water drops and divers can look at
every pier.
Mayor Luis Ortega announced a temporary clinic in the high school gym. "This is exactly the scenario we warned
the state about three years ago," he said, adding that Millbrook cannot keep depending on a bridge built in
1931.
An inspection team from the state transportation department is due on Thursday, when the river is forecast to
crest.
""",
    """\
Flooding has closed a 1931 bridge in Millbrook, Oregon, the town's only direct road to its regional hospital,
after county engineers discovered a cracked support pier.
The Kessel River rose by close to nine feet overnight into Wednesday. County engineer Dana Whitfield said: "We
are not going to gamble with people's lives on a structure we cannot inspect underwater."
Ambulances are being rerouted through the hills, a trip of roughly 40 minutes, while a temporary clinic opens
in the high school gymnasium, according to Mayor Luis Ortega.
"This is exactly the scenario we warned the state about three years ago," Ortega said.
State transportation officials plan to send emergency inspectors on Thursday. The river is expected to crest
late Thursday and to fall slowly over the weekend.
""",
]
UNRELATED = [
    """\
To make the bread, whisk the flour, salt and yeast in a large bowl, then pour in the warm water and stir until
no dry flour remains. Cover the bowl and leave the dough to rise at room temperature for about two hours,
until it has doubled and the surface is dotted with bubbles. Turn it out onto a floured counter, fold it over
itself a few times and shape it into a tight ball. Heat the oven to 250 degrees with a heavy pot inside, drop
the dough into the hot pot, cover it and bake for thirty minutes. Remove the lid and bake another fifteen
minutes, until the crust is deep brown. Let the loaf cool for at least an hour before you slice it, or the
crumb will be gummy.
""",
    """\
The Riverside Hawks beat the Eastfield Comets 3-2 on Saturday night, with a late goal from midfielder Sam
Okafor sealing their first win of the season in front of a sold-out home crowd. The Comets had taken an early
lead through a penalty, but the Hawks equalized before halftime and went ahead early in the second half.
Eastfield leveled again with ten minutes left, and the match looked headed for a draw until Okafor curled a
free kick into the top corner in stoppage time. "We never stopped believing," Hawks coach Maria Lindqvist said
after the game. "The players showed a lot of character tonight, and the fans carried us." The Hawks travel to
Northgate next weekend.
""",
]


@pytest.fixture(scope="module")
def corpus(example_dir: Path) -> dict[str, str]:
    texts = {p.name[:3]: p.read_text(encoding="utf-8") for p in sorted(example_dir.glob("*.txt"))}
    texts.update({f"flood{i}": t for i, t in enumerate(FLOOD_STORY)})
    texts.update({f"other{i}": t for i, t in enumerate(UNRELATED)})
    return texts


def story(name: str) -> str:
    return "flood" if name.startswith("flood") else "other" if name.startswith("other") else "syria"


@pytest.mark.parametrize("exhaustive_below", [200, 0], ids=["exact", "forest"])
def test_each_document_gets_the_other_copies_of_its_story(corpus: dict[str, str], exhaustive_below: int) -> None:
    names = list(corpus)
    texts = list(corpus.values())
    index = SimilarityIndex(texts, exhaustive_below=exhaustive_below)
    found = [index.query(t, exclude=i) for i, t in enumerate(texts)]
    for name, matches in zip(names, found, strict=True):
        got = {names[m.index] for m in matches}
        want = {n for n in names if story(n) == story(name) and n != name and story(n) != "other"}
        assert got == want, name


def test_references_come_best_first(corpus: dict[str, str]) -> None:
    (matches,) = find_references([corpus["000"]], [corpus[n] for n in ("004", "003", "flood0")])
    assert [m.index for m in matches][:1] == [1]  # 003 shares the most with the damaged 000
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)


def test_a_reference_pool_is_searched_for_each_document(corpus: dict[str, str]) -> None:
    pool_names = ["flood1", "004", "other0", "002", "flood2", "001", "003", "other1"]
    found = find_references([corpus["000"], corpus["flood0"]], [corpus[n] for n in pool_names])
    assert {pool_names[m.index] for m in found[0]} == {"001", "002", "003", "004"}
    assert {pool_names[m.index] for m in found[1]} == {"flood1", "flood2"}


def test_top_k_limits_the_references(corpus: dict[str, str]) -> None:
    found = find_references(list(corpus.values()), k=2)
    assert max(len(m) for m in found) == 2


def test_the_document_itself_and_identical_copies_are_not_references(corpus: dict[str, str]) -> None:
    text = corpus["000"]
    index = SimilarityIndex([text, text, corpus["001"]])
    assert [m.index for m in index.query(text, exclude=0)] == [2]


def test_pool_order_does_not_change_the_choice(corpus: dict[str, str]) -> None:
    names = list(corpus)
    shuffled = names[:]
    random.Random(3).shuffle(shuffled)
    first = find_references([corpus[n] for n in names])
    second = find_references([corpus[n] for n in shuffled])
    as_names = lambda order, found: {  # noqa: E731
        order[i]: [(order[m.index], m.score) for m in ms] for i, ms in enumerate(found)
    }
    assert as_names(names, first) == as_names(shuffled, second)


@pytest.mark.parametrize("text", ["", "   ", "the of and", "Hello."])
def test_texts_with_nothing_to_match_get_no_references(corpus: dict[str, str], text: str) -> None:
    assert find_references([text], list(corpus.values())) == [()]


def test_empty_pool() -> None:
    assert find_references(["Tillerson met Lavrov in Moscow on Wednesday."], []) == [()]


def test_similarity_ignores_tokenization_damage() -> None:
    clean = "Tillerson said it wasn't clear whether the U.S. would act; Assad's forces withdrew."
    damaged = "Tillerson said it was n’t clear whether the U. S. would act ; Assad ’s forces withdrew ."
    assert similarity(clean, damaged) == 1.0
