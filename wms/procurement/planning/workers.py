"""The Lagrangian subproblems, kept alive in worker processes between iterations.

Each worker owns a fixed chunk of groups (series that transfer lanes join; a lone series without
lanes is a group of one). It builds their models once; every iteration it receives the prices of
the coupling rows, folds them into the objective coefficients and solves each group again: a
lone series with the exact lot-sizing DP, a linked group with CP-SAT (the same model, only the
objective changes). It answers with the sum of proven bounds and the coupling usage, so only a
vector per worker crosses the pipe; the plan itself is asked for only when it is needed. On
request it also builds a feasible plan within a given share of every limit (``construct``).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import numpy as np
import numpy.typing as npt

from wms.procurement.planning.lotsizing import Caps, SeriesDP
from wms.procurement.planning.model import BuiltModel, RowKey, build_model
from wms.procurement.planning.problem import OrderLine, Problem, SolveParameters, TransferLine

Ints = npt.NDArray[np.int64]
_Plan = tuple[list[OrderLine], list[TransferLine]]


@dataclass(frozen=True)
class Answer:
    """One chunk's iteration: sum of bounds and objectives, usage per row, and the trouble."""

    bound: int
    objective: int
    usage: npt.NDArray[np.float64]
    unproven: int  # groups stopped before proving optimality
    infeasible: tuple[int, ...]  # groups with no plan at all
    seconds: float


class _Group:
    def __init__(self, sub: Problem, rows: dict[RowKey, int]) -> None:
        self.problem = sub
        self.built: BuiltModel = build_model(sub, relax_coupling=True, names=False)
        n = len(self.built.model.lb)
        self.base: Ints = np.zeros(n, dtype=np.int64)
        variables, coefs = self.built.model.objective
        self.base[list(variables)] = list(coefs)
        terms = [
            (rows[key], v, c)
            for key, (vs, cs, _) in self.built.coupling.items()
            if key in rows
            for v, c in zip(vs, cs, strict=True)
        ]
        self.rows = np.array([r for r, _, _ in terms], dtype=np.int64)
        self.vars = np.array([v for _, v, _ in terms], dtype=np.int64)
        self.coefs = np.array([c for _, _, c in terms], dtype=np.float64)
        self.linked = len(sub.series) > 1
        self.dp = None if self.linked else SeriesDP(sub, self.built, 0)
        self.cp: Any = None
        if self.linked:
            from wms.procurement.planning.ortools_backend import Subproblem

            self.cp = Subproblem(self.built.model)
        self.built.model.rows = []  # CP-SAT and the DP hold what they need; free the memory
        self.values: list[int] = []  # the last subproblem solution
        self.made: list[int] = []  # the last plan built within a share

    def objective(self, prices: npt.NDArray[np.float64]) -> Ints:
        """Base costs plus the priced coupling terms, rounded down so the bound stays valid."""
        c = self.base.copy()
        if self.rows.size:
            np.add.at(c, self.vars, np.floor(prices[self.rows] * self.coefs).astype(np.int64))
        return c

    def solve(
        self, prices: npt.NDArray[np.float64], params: SolveParameters, seconds: float
    ) -> tuple[str, int, int]:
        c = self.objective(prices)
        if self.dp is not None:
            solved = self.dp.solve(c)
            if solved is None:
                return "infeasible", 0, 0
            self.values = solved[1]
            return "optimal", solved[0], solved[0]
        nz = np.flatnonzero(c)
        status, objective, bound = self.cp.solve(
            nz.tolist(), c[nz].tolist(), params, seconds=seconds, gap=params.relative_gap / 4
        )
        self.values = self.cp.values
        return status, objective, bound


class Chunk:
    """The groups one worker owns."""

    def __init__(
        self,
        problem: Problem,
        groups: Sequence[Sequence[int]],
        rows: Sequence[RowKey],
        params: SolveParameters,
        sample_every: int = 1,
    ) -> None:
        index = {key: r for r, key in enumerate(rows)}
        self.index = index
        self.sample_every = sample_every
        self.n_rows = len(rows)
        self.params = params
        self.groups = [
            _Group(
                Problem(
                    problem.weeks,
                    tuple(problem.series[i] for i in members),
                    supplier_capacity=problem.supplier_capacity,
                    warehouse_capacity=problem.warehouse_capacity,
                    budget=problem.budget,
                    transfers=problem.transfers,
                ),
                index,
            )
            for members in groups
        ]
        self.floors = [self._floor(group) for group in self.groups]
        self.made: _Plan = ([], [])  # the last plan built within a share
        self.kept: _Plan = ([], [])  # the best one
        self.baseline = np.sum(self.floors, axis=0) if self.floors else np.zeros(self.n_rows)

    def _floor(self, group: _Group) -> npt.NDArray[np.float64]:
        """Warehouse volume the group fills with no order at all: what its share must hold."""
        floor = np.zeros(self.n_rows)
        for s in group.problem.series:
            level = s.on_hand
            for t in range(group.problem.weeks):
                level = max(0, level + (s.incoming[t] if s.incoming else 0) - s.demand[t])
                row = self.index.get(("warehouse_capacity", s.warehouse, t))
                if row is not None:
                    floor[row] += level * s.volume_cm3
        return floor

    def _usage(self, group: _Group, values: list[int]) -> npt.NDArray[np.float64]:
        usage = np.zeros(self.n_rows)
        if group.rows.size and values:
            taken = np.array(values, dtype=np.float64)[group.vars] * group.coefs
            np.add.at(usage, group.rows, taken)
        return usage

    def _caps(self, group: _Group, room: npt.NDArray[np.float64]) -> Caps:
        s, weeks = group.problem.series[0], range(group.problem.weeks)

        def left(key: RowKey) -> int | None:
            r = self.index.get(key)
            return None if r is None else max(0, int(room[r]))

        units = {}
        for o in s.options:
            caps = [left(("supplier_capacity", o.supplier, t)) for t in weeks]
            units[o.supplier] = [10**15 if c is None else c for c in caps]
        spend = [left(("budget", "", t)) for t in weeks]
        cm3 = [left(("warehouse_capacity", s.warehouse, t)) for t in weeks]
        return Caps(
            units,
            None if spend[0] is None else [c or 0 for c in spend],
            None
            if cm3[0] is None or s.volume_cm3 == 0
            else [(c or 0) // s.volume_cm3 for c in cm3],
        )

    def construct(
        self, prices: npt.NDArray[np.float64], share: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], int]:
        """Plan the groups one after another at these prices within this chunk's share.

        Linked groups keep their last solution. Every lone series is allotted its no-order
        warehouse volume plus what its subproblem wanted at these prices, scaled down evenly
        where the share cannot hold all the wants; it re-plans with the DP under hard caps of
        its allotment plus whatever earlier series left unused. So no series is starved by
        coming late, and the union never exceeds the share.
        """
        left = share.copy()
        lone = []
        for group, floor in zip(self.groups, self.floors, strict=True):
            if group.dp is None:
                group.made = group.values
                left -= self._usage(group, group.made)
            else:
                lone.append((group, group.dp, floor))
        wants = [np.maximum(self._usage(g, g.values) - f, 0.0) for g, _, f in lone]
        wanted = np.sum(wants, axis=0) if wants else np.zeros(self.n_rows)
        spare = left - sum((f for _, _, f in lone), np.zeros(self.n_rows))
        ratio = np.clip(np.divide(spare, wanted, out=np.ones_like(spare), where=wanted > 0), 0, 1)
        pool = np.maximum(spare - wanted * ratio, 0.0)
        for (group, dp, floor), want in zip(lone, wants, strict=True):
            room = floor + want * ratio + pool
            solved = dp.solve(group.objective(prices), self._caps(group, room))
            group.made = solved[1] if solved is not None else []
            used = self._usage(group, group.made)
            if solved is None or (used > room + 1e-6).any():
                # Two orders in one week may each fit what is left but not together.
                options = group.problem.series[0].options
                nothing = Caps({o.supplier: [0] * group.problem.weeks for o in options}, None, None)
                fallback = dp.solve(group.objective(prices), nothing)
                group.made = fallback[1] if fallback is not None else []
                used = self._usage(group, group.made)
            pool = np.maximum(room - used, 0.0)
        self.made = self._lines([g.made for g in self.groups])
        usage = sum((self._usage(g, g.made) for g in self.groups), np.zeros(self.n_rows))
        return usage, sum(int(np.dot(g.base, g.made)) for g in self.groups if g.made)

    def keep(self) -> None:
        """Remember the last plan built as the best one."""
        self.kept = self.made

    def _lines(self, chosen: Sequence[list[int]]) -> tuple[list[OrderLine], list[TransferLine]]:
        lines: list[OrderLine] = []
        moves: list[TransferLine] = []
        for group, values in zip(self.groups, chosen, strict=True):
            if values:
                got = group.built.plan(group.problem, values)
                lines.extend(got[0])
                moves.extend(got[1])
        return lines, moves

    def solve(
        self, prices: npt.NDArray[np.float64], seconds_each: float, *, sample: bool = False
    ) -> Answer:
        """Solve every group (or every ``sample_every``-th one) at these prices."""
        start = time.perf_counter()
        usage = np.zeros(self.n_rows)
        bound = objective = unproven = 0
        infeasible = []
        step = self.sample_every if sample else 1
        for g in range(0, len(self.groups), step):
            group = self.groups[g]
            status, obj, low = group.solve(prices, self.params, seconds_each)
            if status == "infeasible":
                infeasible.append(g)
                continue
            bound += low
            objective += obj
            unproven += status != "optimal"
            if group.rows.size and group.values:
                taken = np.array(group.values, dtype=np.float64)[group.vars] * group.coefs
                np.add.at(usage, group.rows, taken)
        return Answer(
            bound, objective, usage, unproven, tuple(infeasible), time.perf_counter() - start
        )

    def plan(self, *, kept: bool = False) -> tuple[list[OrderLine], list[TransferLine]]:
        """The order and transfer lines of the last solutions (or of the kept plan)."""
        return self.kept if kept else self._lines([g.values for g in self.groups])


def _serve(conn: Connection, *args: Any) -> None:
    try:
        chunk = Chunk(*args)
        conn.send("built")
        while True:
            message = conn.recv()
            if message[0] == "solve":
                conn.send(chunk.solve(message[1], message[2], sample=message[3]))
            elif message[0] == "plan":
                conn.send(chunk.plan(kept=message[1]))
            elif message[0] == "keep":
                chunk.keep()
            elif message[0] == "construct":
                conn.send(chunk.construct(message[1], message[2]))
            elif message[0] == "baseline":
                conn.send(chunk.baseline)
            else:
                return
    except EOFError:
        return  # the parent is gone
    except Exception:
        conn.send(_Failed(traceback.format_exc()))


@dataclass(frozen=True)
class _Failed:
    trace: str


def _receive(conn: Connection) -> Any:
    try:
        got = conn.recv()
    except EOFError as exc:
        raise RuntimeError("a planning worker process died") from exc
    if isinstance(got, _Failed):
        raise RuntimeError(f"a planning worker failed:\n{got.trace}")
    return got


class Pool:
    """Chunks in worker processes, or in this process when there is one worker."""

    def __init__(self, problem: Problem, chunks: Sequence[Sequence[Sequence[int]]],
                 rows: Sequence[RowKey], params: SolveParameters,
                 sample_every: int = 1) -> None:  # fmt: skip
        self.local: Chunk | None = None
        self.conns: list[Connection] = []
        self.procs: list[multiprocessing.process.BaseProcess] = []
        # A daemonic process (a Celery prefork child) may not start children: stay in-process.
        if len(chunks) == 1 or multiprocessing.current_process().daemon:
            self.local = Chunk(problem, [g for c in chunks for g in c], rows, params, sample_every)
            return
        # spawn, not fork: a forked child would inherit the parent's threads' locks.
        ctx = multiprocessing.get_context("spawn")
        for chunk in chunks:
            parent, child = ctx.Pipe()
            proc = ctx.Process(
                target=_serve, args=(child, problem, chunk, rows, params, sample_every)
            )
            proc.start()
            child.close()  # so that a worker that dies shows up as EOFError, not a hang
            self.conns.append(parent)
            self.procs.append(proc)
        for conn in self.conns:
            _receive(conn)

    def solve(
        self, prices: npt.NDArray[np.float64], seconds_each: float, *, sample: bool = False
    ) -> list[Answer]:
        """Every chunk's answer at these prices (chunks in parallel)."""
        if self.local is not None:
            return [self.local.solve(prices, seconds_each, sample=sample)]
        for conn in self.conns:
            conn.send(("solve", prices, seconds_each, sample))
        return [_receive(conn) for conn in self.conns]

    def plan(self, *, kept: bool = False) -> tuple[list[OrderLine], list[TransferLine]]:
        """The union of every chunk's last plan (or kept plan)."""
        if self.local is not None:
            return self.local.plan(kept=kept)
        lines: list[OrderLine] = []
        moves: list[TransferLine] = []
        for conn in self.conns:
            conn.send(("plan", kept))
        for conn in self.conns:
            got = _receive(conn)
            lines.extend(got[0])
            moves.extend(got[1])
        return lines, moves

    def baselines(self) -> list[npt.NDArray[np.float64]]:
        """Each chunk's no-order warehouse volume per row."""
        if self.local is not None:
            return [self.local.baseline]
        for conn in self.conns:
            conn.send(("baseline",))
        return [_receive(conn) for conn in self.conns]

    def keep(self) -> None:
        """Every chunk remembers its current plan as the best one."""
        if self.local is not None:
            self.local.keep()
        for conn in self.conns:
            conn.send(("keep",))

    def construct(
        self, prices: npt.NDArray[np.float64], shares: Sequence[npt.NDArray[np.float64]]
    ) -> list[tuple[npt.NDArray[np.float64], int]]:
        """Every chunk builds a plan within its share of each limit (in parallel)."""
        if self.local is not None:
            return [self.local.construct(prices, shares[0])]
        for conn, share in zip(self.conns, shares, strict=True):
            conn.send(("construct", prices, share))
        return [_receive(conn) for conn in self.conns]

    def close(self) -> None:
        """Stop the workers."""
        for conn in self.conns:
            with contextlib.suppress(OSError):  # a worker that died has nothing to stop
                conn.send(("stop",))
        for proc in self.procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
