"""SCIM filters (`?filter=userName eq "x"`) and PATCH paths (`members[value eq "1"]`).

Both are read with scim2-filter-parser's lexer and parser (the grammar of RFC 7644
§3.4.2.2, maintained with django-scim2); what they mean is decided here. Its own
transpilers are not used: they drop an attribute they do not know from a filter, so
`nickName eq "x"` would list everyone, where RFC 7644 asks for 400 invalidFilter.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.db.models import Q
from scim2_filter_parser import ast
from scim2_filter_parser.lexer import SCIMLexer
from scim2_filter_parser.parser import SCIMParser, SCIMParserError

from scim.errors import INVALID_FILTER, INVALID_PATH, bad_request
from scim.ids import scim_id

MAX_FILTER_LENGTH = 1000
STRING_OPERATORS = ("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr")

# An attribute a filter may name: (operator, value or None for "pr") → condition.
FilterAttribute = Callable[[str, str | None], Q]
# Attributes by (schema URI or None, attribute, sub-attribute or None), all lowercase.
AttributeKey = tuple[str | None, str, str | None]


def _parse(text: str):
    tokens = SCIMLexer().tokenize(text)
    return SCIMParser().parse(tokens)


def parse_filter(text: str) -> ast.Filter:
    if len(text) > MAX_FILTER_LENGTH:
        raise bad_request(
            f"The filter is longer than {MAX_FILTER_LENGTH} characters.", INVALID_FILTER
        )
    if "\x00" in text:
        # No stored value holds one, and PostgreSQL refuses to compare with one.
        raise bad_request("The filter contains a NUL character.", INVALID_FILTER)
    try:
        tree = _parse(text)
    except (SCIMParserError, ValueError, IndexError) as error:
        raise bad_request(f"The filter “{text}” cannot be read: {error}", INVALID_FILTER) from None
    if tree is None:
        raise bad_request("The filter is empty.", INVALID_FILTER)
    return tree


def to_q(
    tree: ast.Filter, attributes: Mapping[AttributeKey, FilterAttribute], *, default_uri: str
) -> Q:
    """The filter as a condition on the resources' queryset. An attribute or operator
    PolicyHub does not filter on is refused (400 invalidFilter), never ignored."""

    def visit(node, namespace: ast.AttrPath | None) -> Q:
        if isinstance(node, ast.Filter):
            condition = visit(node.expr, node.namespace or namespace)
            return ~condition if node.negated else condition
        if isinstance(node, ast.LogExpr):
            left, right = visit(node.expr1, namespace), visit(node.expr2, namespace)
            return left & right if node.op.lower() == "and" else left | right
        if isinstance(node, ast.AttrExpr):
            return attribute_condition(node, namespace)
        raise bad_request("The filter cannot be read.", INVALID_FILTER)

    def attribute_condition(node: ast.AttrExpr, namespace: ast.AttrPath | None) -> Q:
        path = node.attr_path
        if not isinstance(path.attr_name, str):
            raise bad_request(
                "PolicyHub does not filter on a sub-attribute of a filtered value "
                '(such as emails[type eq "work"].value).',
                INVALID_FILTER,
            )
        if namespace is not None:
            key = _key(namespace.uri, namespace.attr_name, path.attr_name, default_uri)
        else:
            sub = path.sub_attr.value if path.sub_attr else None
            key = _key(path.uri, path.attr_name, sub, default_uri)
        attribute = attributes.get(key)
        if attribute is None:
            shown = ".".join(part for part in key[1:] if part)
            raise bad_request(f"PolicyHub cannot filter on “{shown}”.", INVALID_FILTER)
        operator = node.value.lower()
        value = node.comp_value.value if node.comp_value is not None else None
        return attribute(operator, value)

    return visit(tree, None)


def _key(uri: str | None, attr: str, sub: str | None, default_uri: str) -> AttributeKey:
    uri = uri.lower() if uri else None
    if uri == default_uri.lower():
        uri = None  # the resource's own schema may be named or not
    return (uri, attr.lower(), sub.lower() if sub else None)


# Building blocks for the attribute tables ---------------------------------------------------------


def unsupported_operator(name: str, operator: str):
    return bad_request(f"PolicyHub cannot use “{operator}” on {name}.", INVALID_FILTER)


def text_attribute(name: str, field: str, *, case_exact: bool = False) -> FilterAttribute:
    def condition(operator: str, value: str | None) -> Q:
        if operator == "pr":
            return ~Q(**{field: ""})
        prefix = "" if case_exact else "i"
        lookups = {
            "eq": f"{prefix}exact",
            "ne": f"{prefix}exact",
            "co": f"{prefix}contains",
            "sw": f"{prefix}startswith",
            "ew": f"{prefix}endswith",
            "gt": "gt",
            "ge": "gte",
            "lt": "lt",
            "le": "lte",
        }
        if operator not in lookups:
            raise unsupported_operator(name, operator)
        found = Q(**{f"{field}__{lookups[operator]}": value})
        return ~found if operator == "ne" else found

    return condition


def id_attribute(name: str, field: str = "pk") -> FilterAttribute:
    def condition(operator: str, value: str | None) -> Q:
        if operator == "pr":
            return Q()
        if operator not in ("eq", "ne"):
            raise unsupported_operator(name, operator)
        pk = scim_id(value)
        found = Q(**{field: pk}) if pk is not None else Q(pk__in=[])
        return ~found if operator == "ne" else found

    return condition


def boolean_attribute(name: str, field: str) -> FilterAttribute:
    def condition(operator: str, value: str | None) -> Q:
        if operator == "pr":
            return Q()
        if operator not in ("eq", "ne") or (value or "").lower() not in ("true", "false"):
            raise bad_request(
                f"{name} compares only with eq or ne and true or false.", INVALID_FILTER
            )
        found = Q(**{field: value.lower() == "true"})
        return ~found if operator == "ne" else found

    return condition


# PATCH paths --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Path:
    """`[uri:]attr[.sub]` or `attr[filter][.sub]`, with the names in lowercase."""

    uri: str | None
    attr: str
    sub: str | None
    value_filter: ast.Filter | None
    text: str


def parse_path(text: str) -> Path:
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_FILTER_LENGTH:
        raise bad_request(f"“{text}” is not an attribute path.", INVALID_PATH)
    try:
        # The grammar reads a path only as part of a filter: complete it to one.
        tree = _parse(f'{text} eq ""')
    except (SCIMParserError, ValueError, IndexError):
        tree = None
    expression = getattr(tree, "expr", None)
    if not isinstance(expression, ast.AttrExpr) or getattr(tree, "negated", False):
        raise bad_request(f"“{text}” is not an attribute path.", INVALID_PATH)
    path = expression.attr_path
    if isinstance(path.attr_name, str):
        sub = path.sub_attr.value if path.sub_attr else None
        return Path(_lower(path.uri), path.attr_name.lower(), _lower(sub), None, text)
    value_path = path.attr_name  # attr[filter], its namespace carrying attr and any .sub
    namespace = value_path.namespace
    sub = namespace.sub_attr.value if namespace.sub_attr else None
    return Path(
        _lower(namespace.uri), namespace.attr_name.lower(), _lower(sub), value_path.expr, text
    )


def _lower(text: str | None) -> str | None:
    return text.lower() if text else None


def matches(value_filter: ast.Filter, entry: Mapping[str, object]) -> bool:
    """Whether one value of a multi-valued attribute (a member, an address) is selected by
    the filter in a path's brackets, comparing its sub-attributes as RFC 7644 §3.4.2.2 says."""

    def visit(node) -> bool:
        if isinstance(node, ast.Filter):
            result = visit(node.expr)
            return not result if node.negated else result
        if isinstance(node, ast.LogExpr):
            if node.op.lower() == "and":
                return visit(node.expr1) and visit(node.expr2)
            return visit(node.expr1) or visit(node.expr2)
        if isinstance(node, ast.AttrExpr) and isinstance(node.attr_path.attr_name, str):
            return compare(node)
        raise bad_request("The filter in the path cannot be read.", INVALID_PATH)

    def compare(node: ast.AttrExpr) -> bool:
        name = node.attr_path.attr_name.lower()
        actual = next((v for k, v in entry.items() if k.lower() == name), None)
        operator = node.value.lower()
        if operator == "pr":
            return actual not in (None, "", [])
        expected = node.comp_value.value if node.comp_value is not None else None
        if isinstance(actual, bool):
            actual = "true" if actual else "false"
        if actual is None:
            return operator == "ne"
        actual, expected = str(actual).lower(), str(expected).lower()
        comparisons = {
            "eq": actual == expected,
            "ne": actual != expected,
            "co": expected in actual,
            "sw": actual.startswith(expected),
            "ew": actual.endswith(expected),
            "gt": actual > expected,
            "ge": actual >= expected,
            "lt": actual < expected,
            "le": actual <= expected,
        }
        return comparisons[operator]

    return visit(value_filter)
