"""Checks the init request's model and method spec against spec.schema.json, the JSON Schema that
TypeScript generates from its zod types (packages/train/src/engines/torch-schema.ts). The Python
side has no defaults of its own: a field TypeScript did not send is an error here, not a guess.

A small validator of the keywords zod's JSON Schema output uses (no third-party package needed).
"""
import json
import os

SCHEMA_PATH = os.path.join(os.path.dirname(__file__), 'spec.schema.json')
_schema = None

TYPES = {
    'object': lambda v: isinstance(v, dict),
    'array': lambda v: isinstance(v, list),
    'string': lambda v: isinstance(v, str),
    'boolean': lambda v: isinstance(v, bool),
    'integer': lambda v: isinstance(v, int) and not isinstance(v, bool) or isinstance(v, float) and v.is_integer(),
    'number': lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    'null': lambda v: v is None,
}


class SpecError(ValueError):
    pass


def errors(value, schema, path):
    """The reasons `value` does not fit `schema`, as 'path: reason' strings (empty: it fits)."""
    for key in ('anyOf', 'oneOf'):
        if key in schema:
            fits = [not errors(value, s, path) for s in schema[key]]
            if key == 'anyOf' and not any(fits) or key == 'oneOf' and sum(fits) != 1:
                # the nearest alternative's reasons say most (e.g. the one whose kind/name matches)
                reasons = min((errors(value, s, path) for s in schema[key]), key=len)
                return reasons or ['%s: fits %d alternatives, expected exactly one' % (path, sum(fits))]
    t = schema.get('type')
    if t is not None and not TYPES[t](value):
        return ['%s: expected %s, got %r' % (path, t, value)]
    if 'const' in schema and value != schema['const']:
        return ['%s: expected %r, got %r' % (path, schema['const'], value)]
    if 'enum' in schema and value not in schema['enum']:
        return ['%s: expected one of %s, got %r' % (path, schema['enum'], value)]
    out = []
    for key, bad in (('minimum', lambda v, b: v < b), ('maximum', lambda v, b: v > b),
                     ('exclusiveMinimum', lambda v, b: v <= b), ('exclusiveMaximum', lambda v, b: v >= b)):
        if key in schema and bad(value, schema[key]):
            out.append('%s: %r is outside %s %r' % (path, value, key, schema[key]))
    if isinstance(value, dict):
        props = schema.get('properties', {})
        out += ['%s: missing %s' % (path, k) for k in schema.get('required', []) if k not in value]
        if schema.get('additionalProperties') is False:
            out += ['%s: unexpected %s' % (path, k) for k in value if k not in props]
        for k, v in value.items():
            if k in props:
                out += errors(v, props[k], '%s.%s' % (path, k))
    if isinstance(value, list):
        if len(value) < schema.get('minItems', 0) or len(value) > schema.get('maxItems', len(value)):
            out.append('%s: %d items, expected %s..%s' % (path, len(value), schema.get('minItems', 0), schema.get('maxItems', '')))
        prefix = schema.get('prefixItems', [])
        for i, v in enumerate(value):
            item = prefix[i] if i < len(prefix) else schema.get('items')
            if isinstance(item, dict):
                out += errors(v, item, '%s[%d]' % (path, i))
    return out


def check_init(req):
    """Raises SpecError naming every field of encoder / head / optimizer / loss that does not fit."""
    global _schema
    if _schema is None:
        with open(SCHEMA_PATH) as f:
            _schema = json.load(f)
    spec = {k: req.get(k) for k in ('encoder', 'head', 'optimizer', 'loss') if k in req}
    found = errors(spec, _schema, 'init')
    if found:
        raise SpecError('the init request does not fit the spec TypeScript sends (spec.schema.json): %s' % '; '.join(found[:8]))
