"""The rule engine inside the application: events in, alerts out, state kept across restarts.

:class:`EngineWorker` subscribes to ``ngsi.entity.*``, ``device.*`` and ``rule.changed`` on
``app.state.event_bus``, feeds the events to the pure :class:`saola.rules.engine.Engine` (on the event
loop: no database work per event) and applies the decisions it returns through
:func:`saola.rules.alerts.raise_alert` / :func:`~saola.rules.alerts.clear_alert` in batches, one
transaction per batch. The same transaction writes the changed per-subject states (``rule_states``)
and the evaluation errors (``rule_errors``), so the stored state never says "raised" for an alert that
was not, nor the reverse; without decisions, changed states are checkpointed every
``rules_checkpoint_seconds`` and when the worker stops. At start the enabled rules are loaded through
:func:`saola.rules.service.enabled_rules` and the stored states restored; ``no_data`` rules learn when
each entity of their type was last updated. Every ``rules_tick_seconds`` the engine's timers and
``no_data`` rules are judged. A failed batch is kept and tried again. One engine per database:
``SAOLA_RULES_ENGINE=off`` on additional processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from saola.core.db import unit_of_work, utcnow, write_intent
from saola.core.events import Event
from saola.rules import alerts
from saola.rules.backtest import last_updates
from saola.rules.engine import Decision, Engine, ErrorRecord
from saola.rules.engine_models import RuleError, RuleState
from saola.rules.service import LoadedRule, enabled_rules
from saola.rules.state import State

log = logging.getLogger("saola.rules.engine")
PATTERNS = ("ngsi.entity.*", "device.*", "rule.changed")
CHUNK = 500
YIELD_EVERY = 500


def _insert(session: Session, table: Any) -> Any:
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(table)


def load_states(session: Session) -> dict[tuple[int, str], State]:
    return {(row.rule_id, row.subject): row.state for row in session.scalars(select(RuleState))}


def write_states(session: Session, changed: dict[tuple[int, str], dict[str, Any]], deleted: set[tuple[int, str]],
                 *, now: datetime) -> None:
    """Upsert the changed states and delete the forgotten ones."""
    rows = [{"rule_id": r, "subject": s, "state": st, "updated_at": now} for (r, s), st in changed.items()]
    for i in range(0, len(rows), CHUNK):
        stmt = _insert(session, RuleState.__table__).values(rows[i:i + CHUNK])
        stmt = stmt.on_conflict_do_update(index_elements=["rule_id", "subject"],
                                          set_={"state": stmt.excluded.state, "updated_at": stmt.excluded.updated_at})
        session.execute(stmt)
    by_rule: dict[int, list[str]] = defaultdict(list)
    for rule_id, subject in deleted - changed.keys():
        by_rule[rule_id].append(subject)
    for rule_id, subjects in by_rule.items():
        for i in range(0, len(subjects), CHUNK):
            session.execute(delete(RuleState).where(RuleState.rule_id == rule_id,
                                                    RuleState.subject.in_(subjects[i:i + CHUNK])))


def write_errors(session: Session, errors: dict[tuple[int, str], ErrorRecord]) -> None:
    """Add the new errors to ``rule_errors`` (last message, last time, count added up)."""
    table = RuleError.__table__
    for (rule_id, subject), record in errors.items():
        stmt = _insert(session, table).values(rule_id=rule_id, subject=subject, message=record.message,
                                              at=record.at, count=record.count)
        stmt = stmt.on_conflict_do_update(index_elements=["rule_id", "subject"], set_={
            "message": stmt.excluded.message, "at": stmt.excluded.at, "count": table.c.count + stmt.excluded.count})
        session.execute(stmt)


def apply_decision(session: Session, decision: Decision) -> None:
    """One decision through the alerts' functions."""
    if decision.action == "clear":
        alerts.clear_alert(session, rule_id=decision.rule_id, subject=decision.subject, at=decision.at,
                           reason=decision.reason)
        return
    alerts.raise_alert(session, rule_id=decision.rule_id, rule_version=decision.rule_version, tenant=decision.tenant,
                       subject=decision.subject, entity_type=decision.entity_type, severity=decision.severity,
                       title_vi=decision.title_vi, title_en=decision.title_en, value=decision.value,
                       details=decision.details, at=decision.at, owner_agency=decision.owner_agency,
                       location=decision.location, incident_type=decision.incident_type)


class EngineWorker:
    """Runs the engine in the application's lifespan (see the module docstring)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.settings = app.state.settings
        self.factory = app.state.session_factory
        self.engine = Engine(update_every_seconds=self.settings.rules_update_seconds)
        self.outbox: list[Decision] = []
        self.wake = asyncio.Event()
        self.lock = asyncio.Lock()
        self.reload_needed = asyncio.Event()
        self.subscriptions: list[Any] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.flush_task: asyncio.Task[None] | None = None
        self.lag_seconds = 0.0
        self.applied = 0
        self.failed_batches = 0
        self.last_flush: datetime | None = None
        self.started_at: datetime | None = None
        self.running = False
        self.loaded = False

    # --- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        bus = self.app.state.event_bus
        self.subscriptions = [bus.subscribe(p, max_queue=100_000) for p in PATTERNS]  # before loading: no gap
        self.started_at = utcnow()
        try:
            await self._load()
        except Exception:  # the database may be down: the reload loop tries again
            log.exception("the rule engine could not load the rules; trying again")
            self.reload_needed.set()
        self.running = True
        self.flush_task = asyncio.create_task(self._flush_loop())
        self.tasks = [asyncio.create_task(self._consume(sub)) for sub in self.subscriptions]
        self.tasks += [self.flush_task, asyncio.create_task(self._tick_loop()),
                       asyncio.create_task(self._reload_loop())]
        self.wake.set()

    async def stop(self) -> None:
        self.running = False
        for sub in self.subscriptions:
            await sub.close()
        for task in self.tasks:
            if task is not self.flush_task:
                task.cancel()
        async with self.lock:  # never cancel a batch being written: wait for it
            if self.flush_task is not None:
                self.flush_task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        try:
            await self.flush()
        except Exception:
            log.exception("the rule engine could not save its state when stopping")

    # --- loading ------------------------------------------------------------------------------------

    def _read_all(self, with_states: bool) -> tuple[list[LoadedRule], dict[tuple[int, str], State], dict[int, Any]]:
        with unit_of_work(self.factory) as session:
            rules = enabled_rules(session)
            saved = load_states(session) if with_states else {}
            seen = {rule.rule_id: last_updates(session, definition=rule.definition) for rule in rules
                    if _has_no_data(rule)}
        return rules, saved, seen

    def _seed(self, seen: dict[int, Any]) -> None:
        for rule_id, updates in seen.items():
            self.engine.seed_seen(rule_id, updates)

    async def _load(self) -> None:
        rules, saved, seen = await asyncio.to_thread(self._read_all, True)
        self.outbox += self.engine.load(rules, saved, now=utcnow())
        self._seed(seen)
        self.loaded = True

    async def reload(self) -> None:
        """Take the enabled rules again (after ``rule.changed``)."""
        if not self.loaded:
            await self._load()
            self.wake.set()
            return
        rules, _saved, seen = await asyncio.to_thread(self._read_all, False)
        self.outbox += self.engine.set_rules(rules, now=utcnow())
        self._seed(seen)
        self.wake.set()

    # --- the loops ----------------------------------------------------------------------------------

    def handle(self, event: Event) -> None:
        """One event through the engine (on the event loop, no database)."""
        if event.topic == "rule.changed":
            self.reload_needed.set()
            return
        now = utcnow()
        self.lag_seconds = max(0.0, (now - event.at).total_seconds())
        try:
            decisions = self.engine.on_event(event.topic, event.payload, now=now)
        except Exception as exc:  # a malformed event: shown in the counters and the log, the engine goes on
            self.engine.counters.errors += 1
            log.exception("the rule engine could not read an event", extra={"topic": event.topic})
            self.engine.last_event_error = f"{event.topic}: {type(exc).__name__}: {exc}"
            return
        if decisions:
            self.outbox += decisions
            self.wake.set()

    async def _consume(self, sub: Any) -> None:
        handled = 0
        async for event in sub:
            self.handle(event)
            handled += 1
            if handled % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # a queue full of events must not starve the flush and the tick

    async def _reload_loop(self) -> None:
        while True:
            await self.reload_needed.wait()
            self.reload_needed.clear()
            try:
                await self.reload()
            except Exception:
                log.exception("the rule engine could not reload the rules")
                await asyncio.sleep(self.settings.rules_tick_seconds)
                self.reload_needed.set()

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.rules_tick_seconds)
            self.tick(utcnow())

    def tick(self, now: datetime) -> None:
        decisions = self.engine.tick(now=now)
        if decisions:
            self.outbox += decisions
            self.wake.set()

    async def _flush_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=self.settings.rules_checkpoint_seconds)
            self.wake.clear()
            try:
                await self.flush()
            except Exception:
                log.exception("the rule engine could not apply its decisions; they are kept and tried again")
                await asyncio.sleep(min(5.0, self.settings.rules_checkpoint_seconds))

    async def flush(self) -> None:
        """Apply the pending decisions and save the changed states and errors, in one transaction."""
        async with self.lock:
            decisions, self.outbox = self.outbox, []
            changed, deleted = self.engine.take_dirty()
            errors = self.engine.take_errors()
            if not (decisions or changed or deleted or errors):
                return
            try:
                events = await asyncio.to_thread(self._write, decisions, changed, deleted, errors)
            except Exception:
                self.failed_batches += 1
                self.outbox[:0] = decisions
                self.engine.dirty.update(k for k in changed if k not in self.engine.deleted)
                self.engine.deleted.update(deleted)
                for key, record in errors.items():
                    self.engine.restore_error(key, record)
                raise
            self.applied += len(decisions)
            self.last_flush = utcnow()
        for topic, payload in events:
            await self.app.state.event_bus.publish(topic, payload)

    def _write(self, decisions: list[Decision], changed: dict[tuple[int, str], dict[str, Any]],
               deleted: set[tuple[int, str]], errors: dict[tuple[int, str], ErrorRecord]) -> list[tuple[str, Any]]:
        events: list[tuple[str, Any]] = []
        failures: dict[tuple[int, str], ErrorRecord] = {}
        with write_intent(), unit_of_work(self.factory, events=events) as session:  # SQLite: write lock up front
            for decision in decisions:
                try:
                    with session.begin_nested():
                        apply_decision(session, decision)
                except Exception as exc:  # this alert is refused: recorded for the rule, the batch goes on
                    log.warning("applying a rule decision failed", extra={"rule_id": decision.rule_id,
                                                                          "subject": decision.subject})
                    failures[(decision.rule_id, decision.subject)] = ErrorRecord(
                        f"the alert could not be {decision.action}d: {exc}"[:1000], decision.at)
            write_states(session, changed, deleted, now=utcnow())
            write_errors(session, {**errors, **failures})
        return events

    # --- what people see ----------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        c = self.engine.counters
        return {"running": self.running, "started_at": self.started_at, "rules": len(self.engine.rules),
                "subjects": sum(len(s) for s in self.engine.states.values()), "timers": len(self.engine.timers),
                "events": c.events, "evaluations": c.evaluations, "decisions": c.decisions, "errors": c.errors,
                "applied": self.applied, "pending_decisions": len(self.outbox), "failed_batches": self.failed_batches,
                "lag_seconds": round(self.lag_seconds, 3), "last_flush": self.last_flush,
                "dropped_events": sum(getattr(s, "dropped", 0) for s in self.subscriptions)}


def _has_no_data(rule: LoadedRule) -> bool:
    condition = rule.definition.condition
    if condition.kind == "composite":
        return any(part.condition.kind == "no_data" for part in condition.parts)
    return condition.kind == "no_data"


def list_errors(session: Session, *, rule_id: int, limit: int = 100) -> list[RuleError]:
    """The recorded evaluation errors of a rule, most recent first."""
    stmt = select(RuleError).where(RuleError.rule_id == rule_id).order_by(RuleError.at.desc(), RuleError.id.desc())
    return list(session.scalars(stmt.limit(limit)))
