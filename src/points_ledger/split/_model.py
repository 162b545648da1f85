"""Base for the split package's frozen, strict pydantic models."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from points_ledger.errors import SplitError
from points_ledger.split._checks import describe


def _first_problem(error: ValidationError) -> str:
    problems = []
    for item in error.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "value"
        problems.append(f"{where}: {item['msg']} (got {item['input']!r})")
    return "; ".join(problems[:5])


class FrozenModel(BaseModel):
    """A frozen, strict pydantic model whose validation failures are :class:`SplitError`."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as e:
            raise SplitError(
                f"invalid {type(self).__name__}: {_first_problem(e)}",
                details={"errors": e.errors(include_url=False, include_input=False)},
            ) from e

    def to_dict(self) -> dict[str, Any]:
        """Return a plain JSON-able dict (str, int, list, dict, None only)."""
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild the model from :meth:`to_dict` output (e.g. after ``json.loads``).

        Raises:
            SplitError: ``data`` is not a mapping or does not describe a valid model.
        """
        if not isinstance(data, Mapping):
            raise SplitError(f"{cls.__name__} data must be a mapping, got {describe(data)}")
        try:
            return cls.model_validate(dict(data))
        except ValidationError as e:
            raise SplitError(
                f"invalid {cls.__name__}: {_first_problem(e)}",
                details={"errors": e.errors(include_url=False, include_input=False)},
            ) from e
