"""One error taxonomy: every documented failure carries its exit code and kind.

The CLI exits with ``exc.exit_code``, the UI titles its message by ``exc.kind`` and the sweep
records ``exc.kind`` per scenario, so a bad case is never reported as "infeasible".

=============  =====  ==============================================================
kind           exit   meaning
=============  =====  ==============================================================
bad_input        2    a case, data or output path is wrong; the message names it and the fix
infeasible       3    no dispatch satisfies every constraint; the message names the families
no_solution      4    the solver returned no usable solution (time limit without incumbent)
interrupted    130    the user interrupted the run (Ctrl-C); nothing was written
=============  =====  ==============================================================
"""

from __future__ import annotations


class DcpowerError(Exception):
    """Base of dcpower's documented failures."""

    exit_code: int = 1
    kind: str = "error"


class InputError(DcpowerError, ValueError):
    """Bad input: the message names the field, file or path and the fix (exit 2)."""

    exit_code = 2
    kind = "bad_input"


class InfeasibleError(DcpowerError, RuntimeError):
    """The case has no feasible dispatch (exit 3)."""

    exit_code = 3
    kind = "infeasible"


class NoSolutionError(DcpowerError, RuntimeError):
    """The solver returned no usable solution (exit 4)."""

    exit_code = 4
    kind = "no_solution"


class InterruptedRunError(DcpowerError):
    """The run was interrupted (exit 130, as shells report Ctrl-C)."""

    exit_code = 130
    kind = "interrupted"


def outcome(exc: BaseException) -> tuple[int, str]:
    """(exit code, kind) of any exception: documented failures keep theirs, Ctrl-C is
    ``interrupted`` and everything else an unexpected error (exit 1)."""
    if isinstance(exc, DcpowerError):
        return exc.exit_code, exc.kind
    if isinstance(exc, KeyboardInterrupt):
        return InterruptedRunError.exit_code, InterruptedRunError.kind
    return 1, "unexpected"
