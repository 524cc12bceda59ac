"""The boto3 ``Table`` conventions on a ``Dynafile``: ``put_item(Item=...)`` and friends.

Each function takes the table and boto3's keyword arguments and returns a
boto3-shaped response. Expressions are strings with ``#name``/``:value``
placeholders or condition objects (:mod:`.conditions`); conditions and key
conditions compile to the engine's filters where possible.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Tuple

from . import _deval, _dmongo, _keys
from ._dexpr import Expressions, Node
from .conditions import to_node
from .errors import ExpressionError, ValidationError

if TYPE_CHECKING:  # pragma: no cover
    from ._table import Dynafile

_RETURN_PUT = {"NONE", "ALL_OLD"}
_RETURN_UPDATE = {"NONE", "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"}


def _unknown(method: str, extra: Mapping[str, Any]) -> None:
    if extra:
        raise TypeError(f"{method}() got unexpected keyword arguments {sorted(extra)}")


def _condition(exprs: Expressions, cond: Any) -> Optional[Node]:
    if cond is None:
        return None
    if isinstance(cond, str):
        return exprs.condition(cond)
    return to_node(cond)


def _predicate(node: Optional[Node]) -> Optional[Callable[[Dict[str, Any]], bool]]:
    return None if node is None else _deval.predicate(node)


def _projection(exprs: Expressions, text: Optional[str]) -> Optional[List[Node]]:
    if text is None:
        return None
    return exprs.projection(text)


def _return_values(value: Any, allowed: Any) -> str:
    if value is None:
        return "NONE"
    if value not in allowed:
        raise ValidationError(f"ReturnValues must be one of {sorted(allowed)}, not {value!r}")
    return str(value)


def put_item(
    db: Dynafile,
    Item: Mapping[str, Any],  # noqa: N803 - boto3's names
    ConditionExpression: Any = None,  # noqa: N803
    ExpressionAttributeNames: Optional[Mapping[str, str]] = None,  # noqa: N803
    ExpressionAttributeValues: Optional[Mapping[str, Any]] = None,  # noqa: N803
    ReturnValues: Optional[str] = None,  # noqa: N803
    **extra: Any,
) -> Dict[str, Any]:
    """``Table.put_item``: ``{}`` or ``{"Attributes": old}`` with ``ReturnValues="ALL_OLD"``."""
    from ._table import _Op

    _unknown("put_item", extra)
    returns = _return_values(ReturnValues, _RETURN_PUT)
    exprs = Expressions(ExpressionAttributeNames, ExpressionAttributeValues)
    cond = _condition(exprs, ConditionExpression)
    exprs.finish()
    doc, key = db._prepare_item(Item)
    if cond is None and returns == "NONE":
        db._live().put(doc)
        return {}
    ((old, _new),) = db._atomic([_Op("put", key, doc, _predicate(cond))], single=True)
    return {"Attributes": old} if returns == "ALL_OLD" and old is not None else {}


def get_item(
    db: Dynafile,
    Key: Mapping[str, Any],  # noqa: N803
    ProjectionExpression: Optional[str] = None,  # noqa: N803
    ExpressionAttributeNames: Optional[Mapping[str, str]] = None,  # noqa: N803
    ConsistentRead: Any = None,  # noqa: N803 - always consistent
    **extra: Any,
) -> Dict[str, Any]:
    """``Table.get_item``: ``{"Item": item}`` or ``{}``."""
    _unknown("get_item", extra)
    exprs = Expressions(ExpressionAttributeNames, None)
    projection = _projection(exprs, ProjectionExpression)
    exprs.finish()
    item = db.get_item(key=Key)
    if item is None:
        return {}
    return {"Item": _deval.project(item, projection) if projection else item}


def delete_item(
    db: Dynafile,
    Key: Mapping[str, Any],  # noqa: N803
    ConditionExpression: Any = None,  # noqa: N803
    ExpressionAttributeNames: Optional[Mapping[str, str]] = None,  # noqa: N803
    ExpressionAttributeValues: Optional[Mapping[str, Any]] = None,  # noqa: N803
    ReturnValues: Optional[str] = None,  # noqa: N803
    **extra: Any,
) -> Dict[str, Any]:
    """``Table.delete_item``: ``{}`` or ``{"Attributes": old}`` with ``ReturnValues="ALL_OLD"``."""
    from ._table import _Op

    _unknown("delete_item", extra)
    returns = _return_values(ReturnValues, _RETURN_PUT)
    exprs = Expressions(ExpressionAttributeNames, ExpressionAttributeValues)
    cond = _condition(exprs, ConditionExpression)
    exprs.finish()
    key = db._key(Key)
    ((old, _new),) = db._atomic([_Op("delete", key, None, _predicate(cond))], single=True)
    return {"Attributes": old} if returns == "ALL_OLD" and old is not None else {}


def _updated_part(item: Optional[Dict[str, Any]], actions: List[Node]) -> Dict[str, Any]:
    if not item:
        return {}
    names = {a[1][1][0] for a in actions}
    return {k: v for k, v in item.items() if k in names}


def update_op(
    db: Dynafile,
    exprs: Expressions,
    Key: Mapping[str, Any],  # noqa: N803
    UpdateExpression: Optional[str],  # noqa: N803
    ConditionExpression: Any,  # noqa: N803
) -> Tuple[Any, List[Node]]:
    """The ``_Op`` of an update request, and its parsed actions."""
    from ._table import _Op

    actions = exprs.update(UpdateExpression) if UpdateExpression is not None else []
    cond = _condition(exprs, ConditionExpression)
    key = db._key(Key)
    for action in actions:
        if action[1][1][0] in (db.pk_attribute, db.sk_attribute):
            raise ValidationError(
                f"an update expression cannot change the key attribute {action[1][1][0]!r}"
            )

    def transform(item: Dict[str, Any]) -> Dict[str, Any]:
        return _deval.apply_update(actions, item)

    spec: Tuple[Dict[str, Any], List[str], Any] = ({}, [], transform)
    return _Op("update", key, spec, _predicate(cond)), actions


def update_item(
    db: Dynafile,
    Key: Mapping[str, Any],  # noqa: N803
    UpdateExpression: Optional[str] = None,  # noqa: N803
    ConditionExpression: Any = None,  # noqa: N803
    ExpressionAttributeNames: Optional[Mapping[str, str]] = None,  # noqa: N803
    ExpressionAttributeValues: Optional[Mapping[str, Any]] = None,  # noqa: N803
    ReturnValues: Optional[str] = None,  # noqa: N803
    **extra: Any,
) -> Dict[str, Any]:
    """``Table.update_item``: ``{"Attributes": ...}`` per ``ReturnValues`` (or ``{}``)."""
    _unknown("update_item", extra)
    returns = _return_values(ReturnValues, _RETURN_UPDATE)
    exprs = Expressions(ExpressionAttributeNames, ExpressionAttributeValues)
    op, actions = update_op(db, exprs, Key, UpdateExpression, ConditionExpression)
    exprs.finish()
    ((old, new),) = db._atomic([op], single=True)
    if returns == "NONE":
        return {}
    chosen = {
        "ALL_OLD": old,
        "ALL_NEW": new,
        "UPDATED_OLD": _updated_part(old, actions),
        "UPDATED_NEW": _updated_part(new, actions),
    }[returns]
    return {"Attributes": chosen} if chosen else {}


# --- reads ----------------------------------------------------------------------------------


class _Target:
    """What a query or scan reads: partition/sort attributes and the order of items."""

    def __init__(self, db: Dynafile, index: Optional[str]) -> None:
        self.index = index
        if index is None:
            self.part, self.sort = db.pk_attribute, db.sk_attribute
        else:
            kind, defn = db._index(index)
            self.part = defn["pk_attribute"] if kind == "gsi" else db.pk_attribute
            self.sort = defn["sk_attribute"]
        order = [self.part] + ([self.sort] if self.sort else [])
        order += [db.pk_attribute, db.sk_attribute]
        self.order: List[str] = list(dict.fromkeys(order))
        self.required = set() if index is None else {self.part, *([self.sort] if self.sort else [])}


def _split_key_condition(node: Node, target: _Target) -> Tuple[Any, Optional[Node]]:
    """``(partition value, sort condition or None)`` of a key condition."""
    parts = [node[1], node[2]] if node[0] == "and" else [node]
    if len(parts) == 2 and parts[0][0] == "and":
        raise ExpressionError("a key condition has at most two parts")
    pk_value: Any = _keys.MISSING
    sort_cond: Optional[Node] = None
    for part in parts:
        attr = _attribute_of(part)
        if attr == (target.part,) and part[0] == "cmp" and part[1] == "=":
            side = part[3] if part[2][0] == "path" else part[2]
            if side[0] != "value":
                raise ExpressionError("the partition key must equal a value")
            pk_value = side[1]
        elif target.sort and attr == (target.sort,) and _is_sort_condition(part):
            if sort_cond is not None:
                raise ExpressionError("a key condition has one sort-key condition")
            sort_cond = part
        else:
            raise ExpressionError(
                f"a key condition is `{target.part} = :v` [AND a condition on "
                f"{target.sort!r}], not {part!r}"
            )
    if pk_value is _keys.MISSING:
        raise ExpressionError(f"the key condition must fix the partition key {target.part!r}")
    return pk_value, sort_cond


def _attribute_of(node: Node) -> Any:
    if node[0] == "cmp":
        for side in (node[2], node[3]):
            if side[0] == "path":
                return side[1]
    if node[0] == "between" and node[1][0] == "path":
        return node[1][1]
    if node[0] == "fn" and node[1] == "begins_with":
        return node[2][0][1]
    return None


def _is_sort_condition(node: Node) -> bool:
    if node[0] == "cmp":
        return node[1] != "<>" and {node[2][0], node[3][0]} == {"path", "value"}
    if node[0] == "between":
        return node[2][0] == node[3][0] == "value"
    return node[0] == "fn" and node[1] == "begins_with"


def _sort_filter(node: Node, attr: str) -> Dict[str, Any]:
    """A sort-key condition as engine bounds (begins_with as a range)."""
    from ._table import _succ

    if node[0] == "fn":
        prefix = node[2][1][1]
        if not isinstance(prefix, (str, bytes)):
            raise ExpressionError("begins_with takes a string or binary value")
        cond: Dict[str, Any] = {"$gte": prefix}
        hi = _succ(prefix)
        if hi is not None:
            cond["$lt"] = hi
        return {attr: cond}
    return _dmongo.compile_condition(node)


def _normalize(v: Any, attr: str) -> Any:
    return _keys.sort_key(v, attr) if v is not None else v


# The engine's key order between kinds of values, and their $type names.
_KINDS = ["null", "number", "string", "binData", "bool"]


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    return "string" if isinstance(v, str) else "binData"


def _beyond(field: str, value: Any, forward: bool) -> List[Dict[str, Any]]:
    """Conditions for ``field`` strictly after (before) ``value`` in key order.

    MongoDB comparisons stay within one kind of value, so the kinds ordered
    after (before) the value's are added explicitly.
    """
    kind = _kind(value)
    at = _KINDS.index(kind)
    others = _KINDS[at + 1 :] if forward else _KINDS[:at]
    out: List[Dict[str, Any]] = []
    if value is not None and not isinstance(value, bool):
        out.append({field: {"$gt" if forward else "$lt": value}})
    elif isinstance(value, bool) and value is not forward:
        out.append({field: forward})  # False < True
    out += [{field: {"$type": k}} for k in others]
    return out


def _after(order: List[str], start: Mapping[str, Any], forward: bool) -> Dict[str, Any]:
    """Items strictly after ``start`` in the order of the fields ``order``."""
    alternatives: List[Dict[str, Any]] = []
    for i, field in enumerate(order):
        if field not in start:
            raise ValidationError(f"ExclusiveStartKey lacks {field!r}")
        same = {f: _normalize(start[f], f) for f in order[:i]}
        for cond in _beyond(field, _normalize(start[field], field), forward):
            alternatives.append(
                {**same, **cond} if not (same.keys() & cond.keys()) else {"$and": [same, cond]}
            )
    if not alternatives:
        return {order[0]: {"$in": []}}  # nothing after the last possible key
    return alternatives[0] if len(alternatives) == 1 else {"$or": alternatives}


def _run(
    db: Dynafile,
    target: _Target,
    base: Dict[str, Any],
    flt: Optional[Node],
    forward: bool,
    limit: Optional[int],
    start: Optional[Mapping[str, Any]],
    projection: Optional[List[Node]],
    select: Optional[str],
    segment: Optional[Tuple[int, int]] = None,
) -> Dict[str, Any]:
    from ._table import _and

    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise ValidationError(f"Limit must be a positive int, not {limit!r}")
    if select not in (None, "ALL_ATTRIBUTES", "COUNT", "ALL_PROJECTED_ATTRIBUTES"):
        raise ValidationError(f"Select {select!r} is not supported")
    coll = db._live()
    if db.ttl_attribute:
        coll.expire()
    direction = 1 if forward else -1
    sort = [(f, direction) for f in target.order]
    for attr in target.required:
        base = _and(base, {attr: {"$exists": True}})
    if start is not None:
        base = _and(base, _after(target.order, _keys.mapping(start, "ExclusiveStartKey"), forward))
    mongo_filter = None
    if flt is not None and limit is None and segment is None:
        try:
            mongo_filter = _dmongo.compile_condition(flt)
        except _dmongo.Unsupported:
            mongo_filter = None
    if mongo_filter is not None:
        items = coll.find(_and(base, mongo_filter), sort=sort)
        scanned = coll.count(base)
    else:
        read = coll.find(base, sort=sort, limit=None if segment else limit)
        if segment is not None:
            seg, total = segment
            read = [i for i in read if _keys.partition_hash(i[db.pk_attribute]) % total == seg]
            if limit is not None:
                read = read[:limit]
        scanned = len(read)
        items = read if flt is None else [i for i in read if _deval.matches(flt, i)]
        if limit is not None and scanned == limit:
            last = read[-1]
            lek = {f: last[f] for f in target.order}
            return _response(items, scanned, projection, select, lek)
    return _response(items, scanned, projection, select, None)


def _response(
    items: List[Dict[str, Any]],
    scanned: int,
    projection: Optional[List[Node]],
    select: Optional[str],
    last_key: Optional[Dict[str, Any]],
) -> Dict[str, Any]:
    out: Dict[str, Any] = {"Count": len(items), "ScannedCount": scanned}
    if select != "COUNT":
        out["Items"] = [_deval.project(i, projection) for i in items] if projection else items
    if last_key is not None:
        out["LastEvaluatedKey"] = last_key
    return out


def query(
    db: Dynafile,
    KeyConditionExpression: Any,  # noqa: N803
    FilterExpression: Any = None,  # noqa: N803
    IndexName: Optional[str] = None,  # noqa: N803
    ScanIndexForward: bool = True,  # noqa: N803
    Limit: Optional[int] = None,  # noqa: N803
    ExclusiveStartKey: Optional[Mapping[str, Any]] = None,  # noqa: N803
    ProjectionExpression: Optional[str] = None,  # noqa: N803
    ExpressionAttributeNames: Optional[Mapping[str, str]] = None,  # noqa: N803
    ExpressionAttributeValues: Optional[Mapping[str, Any]] = None,  # noqa: N803
    Select: Optional[str] = None,  # noqa: N803
    ConsistentRead: Any = None,  # noqa: N803 - always consistent
    **extra: Any,
) -> Dict[str, Any]:
    """``Table.query``: ``{"Items", "Count", "ScannedCount"[, "LastEvaluatedKey"]}``."""
    _unknown("query", extra)
    exprs = Expressions(ExpressionAttributeNames, ExpressionAttributeValues)
    key_cond = _condition(exprs, KeyConditionExpression)
    if key_cond is None:
        raise ValidationError("query needs a KeyConditionExpression")
    flt = _condition(exprs, FilterExpression)
    projection = _projection(exprs, ProjectionExpression)
    exprs.finish()
    target = _Target(db, IndexName)
    pk_value, sort_cond = _split_key_condition(key_cond, target)
    if IndexName is None or target.part == db.pk_attribute:
        pk_value = _keys.partition_key(pk_value, target.part)
    base: Dict[str, Any] = {target.part: pk_value}
    if sort_cond is not None and target.sort:
        from ._table import _and

        base = _and(base, _sort_filter(sort_cond, target.sort))
    return _run(
        db,
        target,
        base,
        flt,
        bool(ScanIndexForward),
        Limit,
        ExclusiveStartKey,
        projection,
        Select,
    )


def scan(
    db: Dynafile,
    FilterExpression: Any = None,  # noqa: N803
    IndexName: Optional[str] = None,  # noqa: N803
    Segment: Optional[int] = None,  # noqa: N803
    TotalSegments: Optional[int] = None,  # noqa: N803
    Limit: Optional[int] = None,  # noqa: N803
    ExclusiveStartKey: Optional[Mapping[str, Any]] = None,  # noqa: N803
    ProjectionExpression: Optional[str] = None,  # noqa: N803
    ExpressionAttributeNames: Optional[Mapping[str, str]] = None,  # noqa: N803
    ExpressionAttributeValues: Optional[Mapping[str, Any]] = None,  # noqa: N803
    Select: Optional[str] = None,  # noqa: N803
    ConsistentRead: Any = None,  # noqa: N803
    **extra: Any,
) -> Dict[str, Any]:
    """``Table.scan``: ``{"Items", "Count", "ScannedCount"[, "LastEvaluatedKey"]}``."""
    _unknown("scan", extra)
    if (Segment is None) != (TotalSegments is None):
        raise ValidationError("Segment and TotalSegments go together")
    segment = None
    if TotalSegments is not None:
        if not (
            isinstance(TotalSegments, int)
            and isinstance(Segment, int)
            and TotalSegments >= 1
            and 0 <= Segment < TotalSegments
        ):
            raise ValidationError(f"bad Segment/TotalSegments {Segment!r}/{TotalSegments!r}")
        segment = (Segment, TotalSegments)
    exprs = Expressions(ExpressionAttributeNames, ExpressionAttributeValues)
    flt = _condition(exprs, FilterExpression)
    projection = _projection(exprs, ProjectionExpression)
    exprs.finish()
    target = _Target(db, IndexName)
    if IndexName is None:
        target.order = [db.pk_attribute, db.sk_attribute]
    return _run(db, target, {}, flt, True, Limit, ExclusiveStartKey, projection, Select, segment)


def batch_get_item(
    db: Dynafile,
    Keys: Optional[List[Mapping[str, Any]]] = None,  # noqa: N803
    RequestItems: Optional[Mapping[str, Any]] = None,  # noqa: N803
    ProjectionExpression: Optional[str] = None,  # noqa: N803
    ExpressionAttributeNames: Optional[Mapping[str, str]] = None,  # noqa: N803
    **extra: Any,
) -> Dict[str, Any]:
    """Items of several keys, read at one point in time.

    ``Keys=[...]`` answers ``{"Responses": [...], "UnprocessedKeys": []}``;
    boto3's ``RequestItems={name: {"Keys": [...], ...}}`` answers
    ``{"Responses": {name: [...]}, "UnprocessedKeys": {}}``.
    """
    _unknown("batch_get_item", extra)
    if (Keys is None) == (RequestItems is None):
        raise ValidationError("batch_get_item takes Keys or RequestItems")

    def fetch(keys: Any, proj: Optional[str], names: Any) -> List[Dict[str, Any]]:
        exprs = Expressions(names, None)
        projection = _projection(exprs, proj)
        exprs.finish()
        items = db.batch_get(keys=keys)
        return [_deval.project(i, projection) for i in items] if projection else items

    if Keys is not None:
        return {
            "Responses": fetch(Keys, ProjectionExpression, ExpressionAttributeNames),
            "UnprocessedKeys": [],
        }
    out: Dict[str, Any] = {}
    for name, request in _keys.mapping(RequestItems, "RequestItems").items():
        request = _keys.mapping(request, f"RequestItems[{name!r}]")
        out[name] = fetch(
            request.get("Keys", []),
            request.get("ProjectionExpression"),
            request.get("ExpressionAttributeNames"),
        )
    return {"Responses": out, "UnprocessedKeys": {}}


def transact_write_items(
    db: Dynafile,
    TransactItems: List[Mapping[str, Any]],  # noqa: N803
    **extra: Any,
) -> Dict[str, Any]:
    """``transact_write_items``: Put/Update/Delete/ConditionCheck, all or nothing."""
    from ._table import _Op

    _unknown("transact_write_items", extra)
    ops = []
    seen = set()
    for entry in TransactItems:
        entry = _keys.mapping(entry, "a TransactItems entry")
        if len(entry) != 1:
            raise ValidationError(f"a TransactItems entry has one action, not {sorted(entry)}")
        ((kind, args),) = entry.items()
        args = dict(_keys.mapping(args, kind))
        args.pop("TableName", None)
        args.pop("ReturnValuesOnConditionCheckFailure", None)
        exprs = Expressions(
            args.pop("ExpressionAttributeNames", None), args.pop("ExpressionAttributeValues", None)
        )
        if kind == "Put":
            doc, key = db._prepare_item(args.pop("Item"))
            cond = _condition(exprs, args.pop("ConditionExpression", None))
            op = _Op("put", key, doc, _predicate(cond))
        elif kind == "Update":
            op, _ = update_op(
                db,
                exprs,
                args.pop("Key"),
                args.pop("UpdateExpression", None),
                args.pop("ConditionExpression", None),
            )
        elif kind in ("Delete", "ConditionCheck"):
            key = db._key(args.pop("Key"))
            cond = _condition(exprs, args.pop("ConditionExpression", None))
            if kind == "ConditionCheck" and cond is None:
                raise ValidationError("ConditionCheck needs a ConditionExpression")
            op = _Op("delete" if kind == "Delete" else "check", key, None, _predicate(cond))
        else:
            raise ValidationError(f"unknown TransactItems action {kind!r}")
        _unknown(kind, args)
        exprs.finish()
        ident = tuple((type(v) is bool, v) for v in op.key)
        if ident in seen:
            raise ValidationError(f"the item {op.key!r} appears twice in one transaction")
        seen.add(ident)
        ops.append(op)
    if ops:
        db._atomic(ops)
    return {}
