"""The optimal pairing: maximum total score, then as many mentees paired as possible.

Solver: OR-Tools ``SimpleMinCostFlow`` on a sparse graph, with an optimality proof that
adds edges until none is missing (column generation). Why:

* The problem is a bipartite b-matching (a mentor takes up to ``max_mentees``, a mentee one
  mentor). Its constraint matrix is totally unimodular, so an integer min-cost flow is exact:
  source → mentor (capacity ``max_mentees``) → mentee (1) → sink, plus a free source → sink
  bypass so leaving someone unpaired is always possible. Scores are integers (hundredths of
  a point) and a pair costs ``-(score × K + 1)`` with K above the largest possible number of
  pairs: the objective is lexicographic, total score first, then the number of pairs.
* At 10,000 applicants ~24 million pairs are allowed. OR-Tools on the complete graph took
  ~10 s and 2.3 GB (2 cores); scipy's HiGHS LP needs 20 s and 1.6 GB already at 2,500
  applicants (1.5 million columns) and does not fit at 10,000; a dense
  ``linear_sum_assignment`` with capacity-repeated columns takes ~5 s and ~1.4 GB.
* So the flow starts from each mentee's best mentors and each mentor's best mentees
  (~100,000 edges), then proves optimality on the *whole* graph: node potentials (integer
  shortest-path distances in the residual network, Bellman-Ford) give every left-out edge a
  reduced cost; if none is negative the flow is optimal for the complete graph (LP duality),
  otherwise the most violated edges are added and the flow solved again. It is exact, not a
  heuristic: ~1.2 s and ~300 MB at 10,000 applicants, in 2–4 rounds (see
  ``benchmarks/RESULTS-matching.md``). Integer arithmetic throughout, so no tolerance.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import min_cost_flow

_SMALL_GRAPH = 300_000
_FIRST_PER_MENTEE = 12
_FIRST_PER_CAPACITY = 3
_ADDED_PER_MENTEE = 12
_PRICE_CELLS = 2_000_000
Ints = NDArray[np.int64]


@dataclass(frozen=True)
class Solution:
    """Chosen pairs as (mentor row, mentee column) indices, and what finding them took."""

    mentor: Ints
    mentee: Ints
    rounds: int
    edges: int


@dataclass(frozen=True)
class _Graph:
    mentor: Ints
    mentee: Ints
    cost: Ints


def solve(scores: NDArray[np.int32], capacity: Ints) -> Solution:
    """Optimal pairs for a score matrix (-1 = not allowed) and each mentor's capacity."""
    mentors, mentees = scores.shape
    if mentors == 0 or mentees == 0 or int(capacity.sum()) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Solution(empty, empty, 0, 0)
    factor = min(int(capacity.sum()), mentees) + 1
    allowed = scores >= 0
    complete = int(np.count_nonzero(allowed)) <= _SMALL_GRAPH
    kept = allowed if complete else _best_edges(scores, capacity)
    del allowed
    rounds = 0
    while True:
        rounds += 1
        graph = _graph(scores, kept, factor)
        used = _min_cost_flow(graph, capacity, mentees)
        if complete:
            break
        potentials = _potentials(graph, used, capacity, mentees)
        added = _violations(scores, kept, potentials, factor)
        if added[0].size == 0:
            break
        kept[added] = True
    return Solution(graph.mentor[used], graph.mentee[used], rounds, graph.cost.size)


def _best_edges(scores: NDArray[np.int32], capacity: Ints) -> NDArray[np.bool_]:
    """Each mentee's best mentors and each mentor's best mentees: the first sparse graph."""
    mentors, mentees = scores.shape
    kept = np.zeros(scores.shape, dtype=bool)
    k = min(_FIRST_PER_MENTEE, mentors)
    step = max(1, _PRICE_CELLS // mentors)
    for start in range(0, mentees, step):
        block = scores[:, start : start + step]
        top = np.argpartition(block, mentors - k, axis=0)[mentors - k :]
        columns = np.broadcast_to(np.arange(block.shape[1]) + start, top.shape)
        good = np.take_along_axis(block, top, axis=0) >= 0
        kept[top[good], columns[good]] = True
    per_mentor = min(mentees, int(capacity.max()) * _FIRST_PER_CAPACITY)
    if per_mentor == 0:
        return kept
    for start in range(0, mentors, max(1, _PRICE_CELLS // mentees)):
        block = scores[start : start + max(1, _PRICE_CELLS // mentees)]
        top = np.argpartition(block, mentees - per_mentor, axis=1)[:, mentees - per_mentor :]
        rows = np.broadcast_to(np.arange(block.shape[0])[:, None] + start, top.shape)
        good = np.take_along_axis(block, top, axis=1) >= 0
        kept[rows[good], top[good]] = True
    return kept


def _graph(scores: NDArray[np.int32], kept: NDArray[np.bool_], factor: int) -> _Graph:
    mentor, mentee = np.nonzero(kept)
    cost = -(scores[mentor, mentee].astype(np.int64) * factor + 1)
    return _Graph(mentor.astype(np.int64), mentee.astype(np.int64), cost)


def _min_cost_flow(graph: _Graph, capacity: Ints, mentees: int) -> NDArray[np.bool_]:
    """Solve the flow; True for each edge of ``graph`` that became a pair."""
    mentors = capacity.size
    flow_size = min(int(capacity.sum()), mentees)
    network = min_cost_flow.SimpleMinCostFlow()
    first_mentee = 2 + mentors
    edge_arcs = network.add_arcs_with_capacity_and_unit_cost(
        2 + graph.mentor, first_mentee + graph.mentee, np.ones_like(graph.cost), graph.cost
    )
    zeros_m, zeros_e = np.zeros(mentors, np.int64), np.zeros(mentees, np.int64)
    network.add_arcs_with_capacity_and_unit_cost(
        zeros_m, 2 + np.arange(mentors), capacity.astype(np.int64), zeros_m
    )
    network.add_arcs_with_capacity_and_unit_cost(
        first_mentee + np.arange(mentees), zeros_e + 1, zeros_e + 1, zeros_e
    )
    network.add_arc_with_capacity_and_unit_cost(0, 1, flow_size, 0)
    network.set_node_supply(0, flow_size)
    network.set_node_supply(1, -flow_size)
    status = network.solve()
    if status != network.OPTIMAL:
        raise RuntimeError(f"the min-cost flow did not solve: {status}")
    flows = np.asarray(network.flows(np.asarray(edge_arcs, dtype=np.int32)))
    return flows > 0


def _residual(graph: _Graph, used: NDArray[np.bool_], capacity: Ints, mentees: int) -> _Graph:
    """Arcs (tail, head, cost) with room left, node ids as in :func:`_min_cost_flow`."""
    mentors = capacity.size
    m_node, e_node = 2 + np.arange(mentors), 2 + mentors + np.arange(mentees)
    load = np.bincount(graph.mentor[used], minlength=mentors)
    paired = np.bincount(graph.mentee[used], minlength=mentees) > 0
    pairs = int(used.sum())
    bypass_flow = min(int(capacity.sum()), mentees) - pairs
    tails = [
        np.where(used, e_node[graph.mentee], m_node[graph.mentor]),
        np.zeros(int((load < capacity).sum()), np.int64),
        m_node[load > 0],
        e_node[~paired],
        np.ones(int(paired.sum()), np.int64),
        np.array([0] * (pairs > 0) + [1] * (bypass_flow > 0), np.int64),
    ]
    heads = [
        np.where(used, m_node[graph.mentor], e_node[graph.mentee]),
        m_node[load < capacity],
        np.zeros(int((load > 0).sum()), np.int64),
        np.ones(int((~paired).sum()), np.int64),
        e_node[paired],
        np.array([1] * (pairs > 0) + [0] * (bypass_flow > 0), np.int64),
    ]
    costs = np.concatenate(
        [np.where(used, -graph.cost, graph.cost)] + [np.zeros_like(t) for t in tails[1:]]
    )
    return _Graph(np.concatenate(tails), np.concatenate(heads), costs)


def _potentials(graph: _Graph, used: NDArray[np.bool_], capacity: Ints, mentees: int) -> Ints:
    """Shortest distances from a virtual root to every node of the residual network."""
    arcs = _residual(graph, used, capacity, mentees)
    order = np.argsort(arcs.mentee, kind="stable")
    tail, head, cost = arcs.mentor[order], arcs.mentee[order], arcs.cost[order]
    starts = np.flatnonzero(np.r_[True, head[1:] != head[:-1]])
    targets = head[starts]
    nodes = 2 + capacity.size + mentees
    distance = np.zeros(nodes, dtype=np.int64)
    for _ in range(nodes + 1):
        shorter = np.minimum(distance[targets], np.minimum.reduceat(distance[tail] + cost, starts))
        if np.array_equal(shorter, distance[targets]):
            return distance
        distance[targets] = shorter
    raise RuntimeError("negative cycle in the residual network: the flow was not optimal")


def _violations(
    scores: NDArray[np.int32], kept: NDArray[np.bool_], potentials: Ints, factor: int
) -> tuple[Ints, Ints]:
    """Left-out edges with a negative reduced cost, the worst few per mentee."""
    mentors, mentees = scores.shape
    on_mentor, on_mentee = potentials[2 : 2 + mentors], potentials[2 + mentors :]
    found: list[tuple[Ints, Ints, Ints]] = []
    step = max(1, _PRICE_CELLS // mentees)
    for start in range(0, mentors, step):
        block = scores[start : start + step].astype(np.int64)
        gain = block * factor + 1 - (on_mentor[start : start + step, None] - on_mentee[None, :])
        rows, cols = np.nonzero((gain > 0) & (block >= 0) & ~kept[start : start + step])
        found.append((rows + start, cols, gain[rows, cols]))
    rows = np.concatenate([f[0] for f in found])
    cols = np.concatenate([f[1] for f in found])
    gain = np.concatenate([f[2] for f in found])
    order = np.lexsort((-gain, cols))
    rows, cols = rows[order], cols[order]
    first = np.searchsorted(cols, cols, side="left")
    worst = np.arange(cols.size) - first < _ADDED_PER_MENTEE
    return rows[worst], cols[worst]
