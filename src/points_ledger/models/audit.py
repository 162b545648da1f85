"""Audit findings as data: what ``Ledger.audit()`` reports and a store's own checks find.

Pure records; :mod:`points_ledger.audit` produces them by replaying the log, and every
store adds the problems it finds in its own storage (``points_ledger.store``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from points_ledger.errors import IntegrityError

__all__ = ["AuditReport", "Problem"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a ledger file.

    Attributes:
        code: Stable snake_case kind of problem (e.g. ``hash_mismatch``).
        message: What is wrong, in plain words.
        seq: The entry concerned, when there is one.
    """

    code: str
    message: str
    seq: int | None = None

    def __str__(self) -> str:
        where = f"entry {self.seq}: " if self.seq is not None else ""
        return f"[{self.code}] {where}{self.message}"


@dataclass(frozen=True)
class AuditReport:
    """The result of checking a ledger file.

    Attributes:
        entries_checked: How many entries were replayed.
        problems: Every problem found (at most 1,000 are listed).
        problems_total: How many problems were found in all.
        anchored: How many entries a checkpoint held outside the file covers (0 when none
            was given).
    """

    entries_checked: int
    problems: tuple[Problem, ...] = field(default_factory=tuple)
    problems_total: int = 0
    anchored: int = 0

    @property
    def unanchored(self) -> int:
        """Entries checked that no checkpoint held outside the file covers yet.

        Only a checkpoint kept outside the file (a ``trusted_checkpoint`` note, or the log
        key holder's :class:`~points_ledger.LogRecord`) stops someone who can write the
        file from removing or rewriting entries unnoticed: these entries rest on the file
        alone until the next checkpoint.
        """
        return max(self.entries_checked - self.anchored, 0)

    findings: tuple[Problem, ...] = field(default_factory=tuple)
    """Things worth knowing that are not problems (e.g. ``single_admin``: one admin may
    act alone on this ledger, as its genesis entry chose). They never make ``ok`` false."""

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return self.problems_total == 0

    def seqs(self) -> list[int]:
        """The distinct entries named by problems, in order."""
        return sorted({p.seq for p in self.problems if p.seq is not None})

    def raise_for_problems(self) -> None:
        """Raise ``IntegrityError`` for the first problem, if there is one."""
        if self.problems:
            first = self.problems[0]
            raise IntegrityError(
                f"{first.message}" if first.seq is None else f"entry {first.seq}: {first.message}",
                seq=first.seq,
                details={"problem": first.code},
            )

    def to_text(self) -> str:
        """A short human-readable summary."""
        anchoring = (
            f"{self.unanchored:,} entries are not yet under a checkpoint held outside the file"
            if self.unanchored
            else "every entry is under a checkpoint held outside the file"
        )
        if self.ok:
            lines = [
                f"audit passed: {self.entries_checked:,} entries checked, no problems",
                anchoring,
            ]
        else:
            lines = [
                f"audit FAILED: {self.problems_total:,} problem(s) in "
                f"{self.entries_checked:,} entries checked"
            ]
            lines += [f"  {p}" for p in self.problems]
        lines += [f"  finding: {f}" for f in self.findings]
        return "\n".join(lines)
