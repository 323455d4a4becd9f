"""DynamoDB transactions for moto (5.2.5) without copying the table.

moto makes a transaction undoable by deep-copying every table it touches, once per action, before
it starts: each TransactWriteItems costs time and memory in proportion to the whole table
(thousands of items in a benchmark's table: 0.1 s a transaction and gigabytes of garbage). This
keeps the same semantics — every action is checked and applied in order, and if any fails the
ones applied are undone and TransactionCanceledException lists each action's reason — but undoes
by putting back the items the transaction changed (each copied before its action), not by
swapping in a copy of the table.

Loaded by the `vivid-moto-server` launcher that scripts/venv.sh writes; the rest of moto is
untouched.
"""

import copy

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend

ACTIONS = {"ConditionCheck", "Put", "Delete", "Update"}


def _key_of(backend, table_name, op_type, op):
    if op_type != "Put":
        return op["Key"]
    table = backend.get_table(table_name)
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def transact_write_items(self, transact_items):
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    # (table, key, the item before the action or None): undone last first.
    undo = []
    targets = set()

    def roll_back():
        for table_name, key, before in reversed(undo):
            if before is None:
                self.delete_item(table_name, key)
            else:
                self.put_item(table_name, before)

    errors = []
    for item in transact_items:
        if len(item) > 1:
            roll_back()
            raise TransactWriteSingleOpException
        before_json = None
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in ACTIONS:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            condition = op.get("ConditionExpression")
            key = _key_of(self, table_name, op_type, op)
            target = (str(table_name), str(dict(sorted(key.items()))))
            if target in targets:
                raise MultipleTransactionsException()
            targets.add(target)

            current = self.get_item(table_name, key)
            if condition is not None:
                if not get_filter_expression(condition, names, values).expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        before_json = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=before_json)
            if op_type == "ConditionCheck":
                errors.append((None, None, None))
                continue
            undo.append((table_name, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None))
            if op_type == "Put":
                self.put_item(table_name, op["Item"], condition_expression=condition,
                              expression_attribute_names=names, expression_attribute_values=values)
            elif op_type == "Delete":
                self.delete_item(table_name, key, condition_expression=condition,
                                 expression_attribute_names=names, expression_attribute_values=values)
            else:
                self.update_item(table_name, key, update_expression=op["UpdateExpression"],
                                 condition_expression=condition, expression_attribute_names=names,
                                 expression_attribute_values=values)
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            roll_back()
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), before_json))
        except Exception as e:  # noqa: BLE001 - each action's failure is reported, as moto does
            errors.append((type(e).__name__, str(e), before_json))

    if any(code is not None for code, _, _ in errors):
        roll_back()
        raise TransactionCanceledException(errors)


DynamoDBBackend.transact_write_items = transact_write_items
