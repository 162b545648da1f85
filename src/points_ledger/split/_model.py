"""The split package's models: the library's one ``FrozenModel``, with ``SplitError``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from pydantic import ValidationError

from points_ledger.errors import LedgerError, SplitError
from points_ledger.models.common import FrozenModel
from points_ledger.split._checks import describe


def _first_problem(error: ValidationError) -> str:
    problems = []
    for item in error.errors(include_url=False):
        where = ".".join(str(part) for part in item["loc"]) or "value"
        problems.append(f"{where}: {item['msg']} (got {item['input']!r})")
    return "; ".join(problems[:5])


class SplitModel(FrozenModel):
    """A :class:`~points_ledger.models.common.FrozenModel` whose failures are ``SplitError``."""

    # Declared again, without the base's pydantic_base_init mark, so that pydantic builds
    # nested split models through it too and an error names the innermost model
    # ("invalid Bucket: weight: ..."), as a split policy's author reads it.
    def __init__(self, /, **data: Any) -> None:
        super().__init__(**data)

    @classmethod
    def validation_failed(cls, error: ValidationError) -> LedgerError:
        """A ``SplitError`` naming the model and its first problems."""
        return SplitError(
            f"invalid {cls.__name__}: {_first_problem(error)}",
            details={"errors": error.errors(include_url=False, include_input=False)},
        )

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
            raise cls.validation_failed(e) from e
