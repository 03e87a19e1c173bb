"""The NGSI-LD query language q (clause 4.9) and scopeQ (clause 4.19): parsing, evaluation on the
stored entity form, SQL pre-filter hints. Examples from the spec and the ETSI conformance suite."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saola.context.errors import BadRequestData
from saola.context.query_language import (
    And,
    AttrPath,
    Comparison,
    Exists,
    Hint,
    NotExists,
    Or,
    Pattern,
    QueryNode,
    Range,
    Scalar,
    ScopeAnd,
    ScopeOr,
    ScopePattern,
    ValueList,
    compile_q,
    evaluate,
    evaluate_scope,
    hint_candidates,
    hint_matches,
    parse_q,
    parse_scope_q,
    parse_temporal,
    scope_to_text,
    sql_hints,
    to_text,
)

VOCAB = "https://ngsi-ld-test-suite/context#"
EX = "http://example.org/"


def expand(term: str) -> str:
    """A stand-in for the request @context: ``ex:`` is a prefix, everything else falls to @vocab."""
    prefix, colon, rest = term.partition(":")
    if colon:
        return EX + rest if prefix == "ex" else term
    return VOCAB + term


T = expand


def prop(value: Any, **members: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value, **members}


VEHICLE: dict[str, Any] = {
    "id": "urn:ngsi-ld:Vehicle:A1",
    "type": [T("Vehicle")],
    "createdAt": "2018-12-01T08:00:00.000Z",
    "modifiedAt": "2018-12-04T12:00:00.000Z",
    T("speed"): [
        prop(80, observedAt="2018-12-04T12:00:00.000Z", unitCode="KMH", **{T("accuracy"): prop(0.5, unitCode="KMH")}),
        prop(120, datasetId="urn:ngsi-ld:Dataset:radar", observedAt="2018-12-04T11:00:00.000Z"),
    ],
    T("brandName"): [prop("Mercedes")],
    T("fuelLevel"): [prop(0.2)],
    T("isParked"): [{"type": "Relationship", "object": "urn:ngsi-ld:OffStreetParking:Downtown1"}],
    T("name"): [{"type": "LanguageProperty",
                 "languageMap": {"en": "Eiffel Tower", "fr": "Tour Eiffel", "vi": "Tháp Eiffel"}}],
    T("address"): [prop({"city": "Madrid", "postalCode": "28001",
                         "streetAddress": {"streetName": "Main Street", "n": 65}})],
    T("category"): [{"type": "VocabProperty", "vocab": T("Car")}],
    T("tags"): [{"type": "ListProperty", "valueList": ["fast", "red", 7]}],
    T("lastService"): [prop({"@type": "DateTime", "@value": "2018-11-30T10:00:00+07:00"})],
    T("serviceDate"): [prop("2018-11-30")],
    T("openingTime"): [prop("08:30:00Z")],
    T("almostFull"): [prop(False)],
    T("config"): [{"type": "JsonProperty", "json": {"threshold": 30, "mode": "auto", "levels": [1, 2, 3]}}],
    T("passengers"): [{"type": "ListRelationship", "objectList": [{"object": "urn:ngsi-ld:Person:1"},
                                                                  {"object": "urn:ngsi-ld:Person:2"}]}],
    EX + "color": [prop("white")],
}

# --- parsing ---------------------------------------------------------------------------------


def cmp(name: str, op: str, value: Any) -> Comparison:
    return Comparison(AttrPath(tuple(name.split("."))), op, value)


def num(v: float) -> Scalar:
    return Scalar("number", v)


def text(v: str) -> Scalar:
    return Scalar("string", v)


@pytest.mark.parametrize(("q", "expected"), [
    ('speed>50;brandName=="Mercedes"', And((cmp("speed", ">", num(50)), cmp("brandName", "==", text("Mercedes"))))),
    ('isParked=="urn:ngsi-ld:OffStreetParking:Downtown1"',
     cmp("isParked", "==", text("urn:ngsi-ld:OffStreetParking:Downtown1"))),
    ("isParked==urn:ngsi-ld:OffStreetParking:Downtown1",
     cmp("isParked", "==", Scalar("uri", "urn:ngsi-ld:OffStreetParking:Downtown1"))),
    ('(speed>50|fuelLevel<0.3);brandName!="Mercedes"',
     And((Or((cmp("speed", ">", num(50)), cmp("fuelLevel", "<", num(0.3)))),
          cmp("brandName", "!=", text("Mercedes"))))),
    ("a;b|c;d", Or((And((Exists(AttrPath(("a",))), Exists(AttrPath(("b",))))),
                    And((Exists(AttrPath(("c",))), Exists(AttrPath(("d",)))))))),
    ("((a))", Exists(AttrPath(("a",)))),
    ("speed==50..80", cmp("speed", "==", Range(num(50), num(80)))),
    ("speed==-5.5..1e3", cmp("speed", "==", Range(num(-5.5), num(1000.0)))),
    ('brandName=="Mercedes","Volvo"', cmp("brandName", "==", ValueList((text("Mercedes"), text("Volvo"))))),
    ('brandName!="Mercedes","Volvo"', cmp("brandName", "!=", ValueList((text("Mercedes"), text("Volvo"))))),
    ("address[city]", Exists(AttrPath(("address",), ("city",)))),
    ('address[streetAddress][streetName]=="Main Street"',
     Comparison(AttrPath(("address",), ("streetAddress", "streetName")), "==", text("Main Street"))),
    ('speed.accuracy[value]==1', Comparison(AttrPath(("speed", "accuracy"), ("value",)), "==", num(1))),
    ('name[en]=="Eiffel Tower"', Comparison(AttrPath(("name",), ("en",)), "==", text("Eiffel Tower"))),
    ("!speed", NotExists(AttrPath(("speed",)))),
    ("ex:speed.ex:accuracy>1", cmp("ex:speed.ex:accuracy", ">", num(1))),
    (r'name=="say \"hi\" \\ bye"', cmp("name", "==", text('say "hi" \\ bye'))),
    ("almostFull==false", cmp("almostFull", "==", Scalar("boolean", False))),
    ("t==2000-01-01T00:00:00,0", cmp("t", "==", ValueList((Scalar("dateTime", parse_temporal(
        "dateTime", "2000-01-01T00:00:00")), num(0))))),  # ',' separates list items, never decimals
])
def test_parse_builds_the_syntax_tree(q: str, expected: QueryNode) -> None:
    assert parse_q(q) == expected


@pytest.mark.parametrize(("q", "kind", "same_as"), [
    ("speed.observedAt>=2018-12-04T12:00:00Z", "dateTime", "2018-12-04T13:00:00+01:00"),
    ("speed.observedAt>=2018-12-04T12:00:00.000Z", "dateTime", "2018-12-04T12:00:00Z"),
    ("speed.observedAt>=2018-12-04T13:00:00 01:00", "dateTime", "2018-12-04T12:00:00Z"),  # '+' decoded as ' '
    ("speed.observedAt>=2018-12-04T12:00:00", "dateTime", "2018-12-04T12:00:00Z"),  # no offset: UTC
    ("day==2018-12-04", "date", "2018-12-04"),
    ("opens<12:00:00Z", "time", "13:00:00+01:00"),
])
def test_temporal_literals_are_instants(q: str, kind: str, same_as: str) -> None:
    value = parse_q(q).value  # type: ignore[union-attr]
    assert value.kind == kind
    assert value.value == parse_temporal(kind, same_as)


def test_patterns_compile_and_may_be_quoted_or_bare() -> None:
    assert parse_q('name~=".*Tower"').value.source == ".*Tower"  # type: ignore[union-attr]
    bare = parse_q("name~=(?i)(eiffel|pisa);speed>1")
    assert isinstance(bare, And)
    assert bare.children[0].value.source == "(?i)(eiffel|pisa)"  # type: ignore[union-attr]


@pytest.mark.parametrize(("q", "message"), [
    ("", "empty"),
    ("speed>", "expected a number"),
    ("(speed>50", "missing ')' for the '(' at character 1"),
    ("speed>50)", "character 9: unbalanced ')'"),
    ("speed>50;;brandName", "character 10: expected an attribute name, found ';'"),
    ("speed>50;", "ends where a term is expected"),
    ("|speed", "expected an attribute name"),
    ("()", "expected an attribute name, found ')'"),
    ("speed=50", "unknown operator"),
    ("speed<>50", "expected a number"),
    ("speed==1..", "upper bound"),
    ("speed==..5", "expected a number"),
    ("speed==1..2..3", "unexpected '.'"),
    ('speed==1.."a"', "range bounds"),
    ("speed==true..false", "range bounds"),
    ("speed>1,2", "'>' needs one"),
    ("speed>true", "'>' needs one"),
    ("speed>urn:x:y", "'>' needs one"),
    ("brandName==Mercedes", "strings must be double-quoted"),
    ('name~="("', "invalid regular expression"),
    ("name~=", "empty regular expression"),
    ('name=="abc', "unterminated quoted string"),
    ("address[city", "unclosed"),
    ("address[]", "unclosed or empty"),
    ("address[city].x", "cannot follow"),
    ("!speed>5", "tests absence"),
    ("speed==2018-13-01", "invalid date"),
    ("speed==2018-12-01T25:00:00Z", "invalid dateTime"),
    ("speed==1e999", "out of range"),
    ("speed>50 ", "expected a number"),
    ("speed>50;brandName", None),
    ("a b", "unexpected ' '"),
    ("(" * 70 + "a" + ")" * 70, "nested deeper"),
])
def test_parse_rejects_what_the_grammar_rejects_with_bad_request_data(q: str, message: str | None) -> None:
    if message is None:
        parse_q(q)
        return
    with pytest.raises(BadRequestData, match=re.escape(message)):
        parse_q(q)


# --- evaluation ------------------------------------------------------------------------------

EVALUATION = [
    # spec / conformance-suite examples
    ('speed>50;brandName=="Mercedes"', True),
    ('isParked=="urn:ngsi-ld:OffStreetParking:Downtown1"', True),
    ("isParked==urn:ngsi-ld:OffStreetParking:Downtown1", True),
    ("isParked==urn:ngsi-ld:OffStreetParking:Downtown2", False),
    ('(speed>50|fuelLevel<0.3);brandName!="Mercedes"', False),
    ('(speed>500|fuelLevel<0.3);brandName!="Volvo"', True),
    ('name~=".*Tower"', True),
    ("speed.observedAt>=2018-12-04T12:00:00Z", True),
    ("speed.observedAt>2018-12-04T12:00:00Z", False),
    ('address[city]=="Madrid"', True),
    ("speed==50..80", True),
    ('brandName=="Mercedes","Volvo"', True),
    # multi-attributes: any instance (the radar instance says 120)
    ("speed>100", True),
    ("speed>150", False),
    ("speed==80.0", True),
    ("speed==81..119", False),
    ("speed!=0..90", True),
    ("speed!=50..130", False),
    ("speed.datasetId==urn:ngsi-ld:Dataset:radar", True),
    # core members and sub-attributes
    ("speed.observedAt==2018-12-04T13:00:00+01:00", True),
    ("speed.observedAt<2018-12-04T12:30:00+01:00", True),
    ('speed.unitCode=="KMH"', True),
    ("speed.accuracy<1", True),
    ('speed.accuracy.unitCode=="KMH"', True),
    ("speed.accuracy", True),
    ("speed.precision", False),
    ("speed.observedAt.unitCode", False),
    ("createdAt<2018-12-02T00:00:00Z", True),
    ("modifiedAt>2018-12-05T00:00:00Z", False),
    # compound values
    ('address[streetAddress][streetName]=="Main Street"', True),
    ("address[streetAddress][n]>60", True),
    ("address[country]", False),
    ("address[city]", True),
    ("address[postalCode]==28001", False),
    ('address[postalCode]=="28001"', True),
    ("config[threshold]==10..50", True),
    ('config[mode]=="auto"', True),
    ("config[levels][2]==3", True),
    ("config[levels]==2", True),
    # LanguageProperty
    ('name[fr]=="Tour Eiffel"', True),
    ('name[FR]=="Tour Eiffel"', True),
    ('name[en]=="Tour Eiffel"', False),
    ('name=="Tháp Eiffel"', True),
    ("name[en]", True),
    ("name[de]", False),
    # lists: any element; != means none
    ('tags=="red"', True),
    ('tags!="red"', False),
    ('tags!="blue"', True),
    ("tags==7", True),
    ("tags>5", True),
    ("passengers==urn:ngsi-ld:Person:2", True),
    ("passengers!=urn:ngsi-ld:Person:3", True),
    # vocab values are expanded like terms
    ('category=="Car"', True),
    (f'category=="{VOCAB}Car"', True),
    ('category=="Truck"', False),
    ('category!="Car"', False),
    # typed comparisons: mismatched types never match
    ("lastService<2018-12-01T00:00:00Z", True),
    ("serviceDate==2018-11-30", True),
    ("serviceDate<2018-12-01", True),
    ('serviceDate=="2018-11-30"', True),
    ("serviceDate==2018-11-30T00:00:00Z", False),
    ("openingTime<09:00:00Z", True),
    ("openingTime==09:30:00+01:00", True),
    ("almostFull==false", True),
    ("almostFull==0", False),
    ('speed=="80"', False),
    ('speed!="80"', False),
    ('brandName>"Audi"', True),
    ('brandName<"Audi"', False),
    ('isParked>"a"', False),
    ('isParked~="Downtown"', False),
    # patterns
    ('brandName~="^merc"', False),
    ('brandName~="(?i)^merc"', True),
    ('brandName!~="^Volvo"', True),
    ('speed~="8"', False),
    ('speed!~="8"', False),
    # existence; a missing attribute never matches a comparison, not even !=
    ("fuelLevel!=0.5", True),
    ("wheels!=4", False),
    ("!wheels", True),
    ("!speed", False),
    ("ex:color==\"white\"", True),
    ("ex:speed", False),
    # id and type are not attributes
    ('id=="urn:ngsi-ld:Vehicle:A1"', False),
    ('type=="Vehicle"', False),
]


@pytest.mark.parametrize(("q", "expected"), EVALUATION)
def test_evaluate_on_the_stored_entity_form(q: str, expected: bool) -> None:
    assert evaluate(parse_q(q), VEHICLE, expand) is expected


def test_compile_expands_each_term_once() -> None:
    seen: list[str] = []

    def counting(term: str) -> str:
        seen.append(term)
        return expand(term)

    predicate = compile_q(parse_q('speed>50;speed.accuracy<1;brandName=="Mercedes"'), counting)
    assert [predicate(VEHICLE) for _ in range(3)] == [True, True, True]
    assert sorted(seen) == ["Mercedes", "accuracy", "brandName", "speed", "speed"]


# --- SQL hints --------------------------------------------------------------------------------


@pytest.mark.parametrize(("q", "expected"), [
    ('speed>50;brandName=="Mercedes"', {Hint(T("speed"), "exists"), Hint(T("speed"), ">", 50),
                                        Hint(T("brandName"), "exists"),
                                        Hint(T("brandName"), "in", ("Mercedes", T("Mercedes")))}),
    ("speed==50..80", {Hint(T("speed"), "exists"), Hint(T("speed"), "range", (50, 80))}),
    ("speed==50,60", {Hint(T("speed"), "exists"), Hint(T("speed"), "in", (50, 60))}),
    ("almostFull==false", {Hint(T("almostFull"), "exists"), Hint(T("almostFull"), "==", False)}),
    ("speed>50|brandName", set()),
    ("speed>50|speed<10", {Hint(T("speed"), "exists")}),
    ('(speed>50|fuelLevel<0.3);brandName!="Mercedes"', {Hint(T("brandName"), "exists")}),
    ("!speed", set()),
    ("speed.observedAt>2018-12-04T12:00:00Z", {Hint(T("speed"), "exists")}),
    ("speed!=3;name~=\"x\"", {Hint(T("speed"), "exists"), Hint(T("name"), "exists")}),
    ("createdAt>2018-12-04T12:00:00Z;type", set()),
])
def test_sql_hints_describe_a_superset_of_the_matches(q: str, expected: set[Hint]) -> None:
    assert set(sql_hints(parse_q(q), expand)) == expected


@pytest.mark.parametrize(("instance", "expected"), [
    (prop(80), [80]),
    (prop([1, "a", {"@value": 2}]), [1, "a", 2]),
    (prop({"@type": "DateTime", "@value": "2018-11-30T10:00:00Z"}), ["2018-11-30T10:00:00Z"]),
    (prop({"city": "Madrid"}), [{"city": "Madrid"}]),
    ({"type": "Relationship", "object": ["urn:a", "urn:b"]}, ["urn:a", "urn:b"]),
    ({"type": "ListRelationship", "objectList": [{"object": "urn:a", "datasetId": "urn:d"}]}, ["urn:a"]),
    ({"type": "LanguageProperty", "languageMap": {"en": "x", "vi": ["y", "z"]}}, ["x", "y", "z"]),
    ({"type": "VocabProperty", "vocab": T("Car")}, [T("Car")]),
    ({"type": "JsonProperty", "json": [1, 2]}, [1, 2]),
    ({"type": "Property"}, []),
])
def test_hint_candidates_are_the_values_value_hints_test(instance: dict[str, Any], expected: list[Any]) -> None:
    assert hint_candidates(instance) == expected


@pytest.mark.parametrize(("q", "_"), EVALUATION)
def test_sql_hints_hold_for_every_matching_example(q: str, _: bool) -> None:
    node = parse_q(q)
    if evaluate(node, VEHICLE, expand):
        assert all(hint_matches(h, VEHICLE) for h in sql_hints(node, expand))


# --- properties -------------------------------------------------------------------------------

Q_ALPHABET = list('abc.[]()"\\;|,!=<>~0123456789-:TZe +#/')


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet=st.sampled_from(Q_ALPHABET), max_size=30) | st.text(max_size=30))
def test_parser_answers_any_text_with_a_tree_or_bad_request_data(q: str) -> None:
    try:
        node = parse_q(q)
    except BadRequestData as exc:
        assert exc.__cause__ is None, "a deliberate rejection, not a caught internal error"
    else:
        assert parse_q(to_text(node)) == node


NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}(:[a-z]{1,3})?", fullmatch=True)
MEMBERS = st.text(st.characters(blacklist_characters="[]", blacklist_categories=("Cs",)), min_size=1, max_size=4)
NUMBERS = st.builds(num, st.integers(-10**9, 10**9) | st.floats(allow_nan=False, allow_infinity=False))
STRINGS = st.builds(text, st.text(max_size=6))


def _temporal(kind: str, source: str) -> Scalar:
    return Scalar(kind, parse_temporal(kind, source), source)


OFFSETS = st.sampled_from(["Z", "+07:00", "-03:30", "", ".250Z"])
DATETIMES = st.builds(lambda d, o: _temporal("dateTime", d.isoformat(timespec="seconds") + o),
                      st.datetimes(), OFFSETS)
DATES = st.builds(lambda d: _temporal("date", d.isoformat()), st.dates())
TIMES = st.builds(lambda t, o: _temporal("time", t.isoformat(timespec="seconds") + o), st.times(), OFFSETS)
COMPARABLES = st.one_of(NUMBERS, STRINGS, DATETIMES, DATES, TIMES)
SCALARS = st.one_of(COMPARABLES, st.builds(Scalar, st.just("boolean"), st.booleans()),
                    st.builds(Scalar, st.just("uri"), st.from_regex(r"urn:[a-z]{1,4}:[A-Za-z0-9:._\-]{1,8}",
                                                                    fullmatch=True)))
RANGES = st.one_of(*(st.builds(Range, s, s) for s in (NUMBERS, STRINGS, DATETIMES, DATES, TIMES)))
LISTS = st.lists(SCALARS, min_size=2, max_size=4).map(lambda xs: ValueList(tuple(xs)))
PATTERNS = st.text(max_size=6).map(lambda s: Pattern(re.escape(s) or ".", re.compile(re.escape(s) or ".")))
PATHS = st.builds(AttrPath, st.lists(NAMES, min_size=1, max_size=3).map(tuple),
                  st.lists(MEMBERS, max_size=2).map(tuple))
COMPARISONS = st.one_of(
    st.builds(Comparison, PATHS, st.sampled_from(["==", "!="]), st.one_of(SCALARS, RANGES, LISTS)),
    st.builds(Comparison, PATHS, st.sampled_from([">", ">=", "<", "<="]), COMPARABLES),
    st.builds(Comparison, PATHS, st.sampled_from(["~=", "!~="]), PATTERNS),
)
LEAVES = st.one_of(COMPARISONS, st.builds(Exists, PATHS), st.builds(NotExists, PATHS))


def _trees(leaves: st.SearchStrategy[QueryNode]) -> st.SearchStrategy[QueryNode]:
    def extend(children: st.SearchStrategy[QueryNode]) -> st.SearchStrategy[QueryNode]:
        ands = st.lists(children.filter(lambda c: not isinstance(c, And)), min_size=2, max_size=3)
        ors = st.lists(children.filter(lambda c: not isinstance(c, Or)), min_size=2, max_size=3)
        return ands.map(lambda cs: And(tuple(cs))) | ors.map(lambda cs: Or(tuple(cs)))

    return st.recursive(leaves, extend, max_leaves=6)


@settings(max_examples=400, deadline=None)
@given(_trees(LEAVES))
def test_printing_a_tree_and_parsing_it_back_gives_the_same_tree(node: QueryNode) -> None:
    assert parse_q(to_text(node)) == node


# Random entities and simple queries over a small vocabulary, so that matches are frequent.
ATTRS = ["a", "b", "c"]
SMALL = st.one_of(st.integers(-3, 3), st.sampled_from([0.5, 1.5, "x", "y", "Car", "urn:x", True, False]))
VALUES = st.one_of(SMALL, st.lists(SMALL, max_size=3), st.builds(lambda v: {"@value": v}, SMALL),
                   st.fixed_dictionaries({"k": SMALL}))
INSTANCES = st.one_of(
    st.builds(prop, VALUES),
    st.builds(lambda o: {"type": "Relationship", "object": o}, st.sampled_from(["urn:x", "urn:y", ["urn:x", "urn:y"]])),
    st.builds(lambda m: {"type": "LanguageProperty", "languageMap": m},
              st.dictionaries(st.sampled_from(["en", "fr"]), st.sampled_from(["x", "y", "Car"]), min_size=1)),
    st.builds(lambda v: {"type": "VocabProperty", "vocab": v}, st.sampled_from([T("Car"), "x", [T("x"), T("y")]])),
    st.builds(lambda v: {"type": "ListProperty", "valueList": v}, st.lists(SMALL, max_size=3)),
    st.builds(lambda v: {"type": "JsonProperty", "json": v}, VALUES),
)
ATTRIBUTES = st.lists(INSTANCES, min_size=1, max_size=2).map(
    lambda xs: [dict(x, datasetId=f"urn:ds:{i}") if i else x for i, x in enumerate(xs)])
ENTITIES = st.fixed_dictionaries({T("a"): ATTRIBUTES}, optional={T("b"): ATTRIBUTES, T("c"): ATTRIBUTES}).map(
    lambda attrs: {"id": "urn:ngsi-ld:T:1", "type": [T("T")], **attrs})
SIMPLE_SCALARS = st.one_of(st.builds(num, st.integers(-3, 3) | st.sampled_from([0.5, 1.5])),
                           st.builds(text, st.sampled_from(["x", "y", "Car"])),
                           st.builds(Scalar, st.just("boolean"), st.booleans()),
                           st.builds(Scalar, st.just("uri"), st.just("urn:x")))


def _simple_leaves(members: list[tuple[str, ...]]) -> st.SearchStrategy[QueryNode]:
    paths = st.builds(AttrPath, st.sampled_from(ATTRS).map(lambda a: (a,)), st.sampled_from(members))
    return st.one_of(
        st.builds(Comparison, paths, st.sampled_from(["==", "!="]), st.one_of(
            SIMPLE_SCALARS,
            st.lists(SIMPLE_SCALARS, min_size=2, max_size=3).map(lambda xs: ValueList(tuple(xs))),
            st.builds(lambda a, b: Range(num(min(a, b)), num(max(a, b))), st.integers(-3, 3), st.integers(-3, 3)))),
        st.builds(Comparison, paths, st.sampled_from([">", ">=", "<", "<="]),
                  st.builds(num, st.integers(-3, 3)) | st.builds(text, st.sampled_from(["x", "y"]))),
        st.builds(Exists, paths),
        st.builds(NotExists, paths),
    )


SIMPLE_LEAVES = _simple_leaves([(), (), ("k",), ("en",)])
VALUE_TERMS = st.builds(Comparison, st.just(AttrPath(("a",))), st.sampled_from(["==", ">", ">=", "<", "<="]),
                        SIMPLE_SCALARS).filter(lambda c: c.op == "==" or c.value.kind == "number")
# conjunctions of member-less terms are where value hints come from
CONJUNCTIONS = st.lists(_simple_leaves([()]) | VALUE_TERMS, min_size=1, max_size=3).map(
    lambda cs: cs[0] if len(cs) == 1 else And(tuple(cs)))


@settings(max_examples=600, deadline=None)
@given(_trees(SIMPLE_LEAVES) | CONJUNCTIONS, ENTITIES)
def test_sql_hints_are_a_sound_superset_filter(node: QueryNode, entity: dict[str, Any]) -> None:
    if evaluate(node, entity, expand):
        for hint in sql_hints(node, expand):
            assert hint_matches(hint, entity), hint


def _literal(value: Any) -> Scalar | None:
    if isinstance(value, bool):
        return Scalar("boolean", value)
    if isinstance(value, (int, float)):
        return num(value)
    return text(value) if isinstance(value, str) else None


@settings(max_examples=400, deadline=None)
@given(ENTITIES, st.data())
def test_sql_value_hints_hold_for_values_taken_from_the_entity(entity: dict[str, Any], data: st.DataObject) -> None:
    """Queries built from the entity's own values match it often, so the value hints are really exercised."""
    found = [x for inst in entity[T("a")] for x in (inst.get("value"), inst.get("object"), inst.get("vocab"),
                                                     inst.get("valueList"), inst.get("json"))
             for x in (x if isinstance(x, list) else [x])]
    literals = [s for s in map(_literal, found) if s is not None]
    if not literals:
        return
    chosen = data.draw(st.lists(st.sampled_from(literals), min_size=1, max_size=3))
    single_number = chosen[0].kind == "number" and len(chosen) == 1
    op = data.draw(st.sampled_from(["==", ">=", "<="]) if single_number else st.just("=="))
    value = chosen[0] if len(chosen) == 1 else ValueList(tuple(chosen))
    node = Comparison(AttrPath(("a",)), op, value)
    if evaluate(node, entity, expand):
        assert any(h.op != "exists" for h in sql_hints(node, expand))
        for hint in sql_hints(node, expand):
            assert hint_matches(hint, entity), hint


# --- scopeQ -------------------------------------------------------------------------------------

ONE_SCOPE = ["/Madrid/Gardens/ParqueNorte"]
MANY_SCOPES = ["/Madrid/Gardens/ParqueNorte", "/CompanyA/OrganizationB/UnitC"]


@pytest.mark.parametrize(("scope_q", "expected_count"), [
    # ETSI conformance suite TP 019_01_06
    ("/Madrid/Gardens/ParqueNorte", 2),
    ("/Madrid/+/ParqueNorte", 2),
    ("/CompanyA/#", 1),
    ("/#", 2),
    ("/Madrid/Gardens/ParqueNorte;/CompanyA/OrganizationB/UnitC", 1),
    ("/Madrid/Gardens/ParqueNorte,/CompanyA/OrganizationB/UnitC", 2),
    # clause 4.19 examples 4 and 5: grouping and '|'
    ("(/Madrid/Gardens/ParqueNorte;/CompanyA/OrganizationB/UnitC)", 1),
    ("(/Madrid/Gardens/ParqueNorte;/CompanyA/OrganizationB/UnitC)|/Madrid/Gardens/ParqueNorte", 2),
    ("/CompanyA/OrganizationB/UnitC|/Nowhere/AtAll", 1),
    ("(/Madrid/Gardens/ParqueNorte;/Nowhere/AtAll)", 0),
    # levels
    ("/Madrid", 0),
    ("/Madrid/#", 2),
    ("/Madrid/Gardens/ParqueNorte/#", 2),
    ("/+/+", 0),
    ("/+/+/+", 2),
    ("/+/#", 2),
])
def test_scope_query_counts_match_the_conformance_suite(scope_q: str, expected_count: int) -> None:
    node = parse_scope_q(scope_q)
    assert sum(evaluate_scope(node, scopes) for scopes in (ONE_SCOPE, MANY_SCOPES)) == expected_count


def test_scope_query_never_matches_an_entity_without_scope() -> None:
    assert not evaluate_scope(parse_scope_q("/#"), [])
    assert not evaluate_scope(parse_scope_q("/#"), None)
    assert evaluate_scope(parse_scope_q("/Madrid/#"), "/Madrid")


@pytest.mark.parametrize("scope_q", ["", "/", "/Madrid/", "//Madrid", "/Madrid//Gardens", "(/Madrid", "/Madrid)",
                                     "/Madrid;", ",/Madrid", "/Madrid Gardens", "/a/#/b", "/a+b", "/#/#", "()"])
def test_scope_query_rejects_malformed_scopes(scope_q: str) -> None:
    with pytest.raises(BadRequestData, match="scopeQ"):
        parse_scope_q(scope_q)


SCOPE_LEAVES = st.builds(ScopePattern, st.lists(st.from_regex(r"[A-Za-z0-9_]{1,4}|\+", fullmatch=True),
                                                max_size=3).map(tuple), st.booleans()).filter(
    lambda p: p.levels or p.descendants)
SCOPE_TREES = st.recursive(SCOPE_LEAVES, lambda c: st.lists(c, min_size=2, max_size=3).map(
    lambda cs: ScopeAnd(tuple(cs))) | st.lists(c, min_size=2, max_size=3).map(lambda cs: ScopeOr(tuple(cs))),
    max_leaves=5)


@settings(max_examples=300, deadline=None)
@given(SCOPE_TREES)
def test_printing_a_scope_tree_and_parsing_it_back_gives_the_same_tree(node: Any) -> None:
    assert parse_scope_q(scope_to_text(node)) == node


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("/ab+#;,|() ")), max_size=20) | st.text(max_size=20))
def test_scope_parser_answers_any_text_with_a_tree_or_bad_request_data(scope_q: str) -> None:
    try:
        parse_scope_q(scope_q)
    except BadRequestData as exc:
        assert exc.__cause__ is None
