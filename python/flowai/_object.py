"""The base of every flowai class: calls, events to callbacks and iterators, context managers.

An object's events wait in its native queue (bounded: a session stops reading its socket
when nobody takes them) and are taken in batches, one ``json.loads`` per batch. With no
listener, ``next_event()`` and ``for event in obj`` take them directly. While listeners
exist (``on(...)`` callbacks, a waiting ``async for`` or ``next_event``), one daemon
thread per object takes every batch and hands each event to the listeners in the order
they were registered; a callback registered while an asyncio loop runs is called on that
loop. Callbacks run as SDK code: a blocking flowai call inside one raises ``MisuseError``
(start the ``*_async`` form instead). An exception in a callback goes to
``sys.unraisablehook`` and the dispatch goes on. ``closed`` is the last event, once; the
callbacks are released after it. Events no listener took wait for the next consumer.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import queue
import threading
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, ClassVar, Self

from . import _flowai

Callback = Callable[["Event"], object]
_Listener = tuple[str, Callback, "asyncio.AbstractEventLoop | None"]


class Event:
    """One event: ``name`` (one of ``flowai.EVENT_NAMES``) and its ``payload`` dict, with the
    core's field names (``thread_id``, ``delay_ms``, ...)."""

    __slots__ = ("name", "payload")

    def __init__(self, name: str, payload: dict[str, Any]) -> None:
        self.name = name
        self.payload = payload

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Event) and (self.name, self.payload) == (other.name, other.payload)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Event({self.name!r}, {self.payload!r})"


def _parse(text: str) -> list[Event]:
    return [Event(e["event"], e["payload"]) for e in json.loads(text)]


def _pop(pending: deque[Event]) -> Event | None:
    """The oldest pending event; another thread may take the last one first."""
    try:
        return pending.popleft()
    except IndexError:
        return None


def _run(callback: Callback, event: Event) -> None:
    try:
        callback(event)
    except Exception as exc:  # reported, and the next callback still runs
        _flowai.report(exc, callback)


def _run_all(calls: list[tuple[Callback, Event]]) -> None:
    for callback, event in calls:
        _run(callback, event)


def _on_loop(calls: list[tuple[Callback, Event]]) -> None:
    _flowai.as_sdk_thread(_run_all, calls)


def _deliver(batch: list[Event], listeners: tuple[_Listener, ...]) -> None:
    later: dict[asyncio.AbstractEventLoop, list[tuple[Callback, Event]]] = {}
    for event in batch:
        for name, callback, loop in listeners:
            if name == event.name or name == "*":
                if loop is None:
                    _run(callback, event)
                else:
                    later.setdefault(loop, []).append((callback, event))
    for loop, calls in later.items():
        try:
            loop.call_soon_threadsafe(_on_loop, calls)
        except RuntimeError:  # the loop is closed, and its listeners with it
            pass


def _drain(box: queue.SimpleQueue[Event] | asyncio.Queue[Event]) -> list[Event]:
    out = []
    while not box.empty():
        out.append(box.get_nowait())
    return out


class _Inbox:
    """The listener of one waiting iterator. Once the iterator stops, the events it did not
    take and those still on their way go to the object's pending events, in order, for
    the next ``next_event`` or ``async for``."""

    def __init__(self, put: Callback, pending: deque[Event]) -> None:
        self.put = put
        self.pending = pending
        self.lock = threading.Lock()
        self.open = True

    def __call__(self, event: Event) -> None:
        with self.lock:
            if self.open:
                self.put(event)
            else:
                self.pending.append(event)

    def detach(self, dispatcher: _Dispatcher, leftovers: Callable[[], list[Event]]) -> None:
        dispatcher.remove(self)
        with self.lock:
            self.open = False
            self.pending.extend(leftovers())


class _Dispatcher(threading.Thread):
    """Takes one object's events and hands them to its listeners, while it has any.

    It holds the event queue, not the object, so a dropped object still closes (and its
    ``closed`` ends this thread). When it finds no listener left, it puts its batch in
    the object's pending events and stops: the rest stay in the native queue, which is
    bounded, for whoever comes next."""

    def __init__(self, kind: str, events: _flowai.Events, pending: deque[Event]) -> None:
        super().__init__(name=f"flowai-{kind}-events", daemon=True)
        self.events = events
        self.pending = pending
        self.lock = threading.Lock()
        self.listeners: tuple[_Listener, ...] = ()
        self.stopped = False  # no listener was left
        self.ended = False  # `closed` went out

    def add(self, name: str, callback: Callback, loop: asyncio.AbstractEventLoop | None) -> bool:
        """Register a listener; False when this thread has stopped or ended."""
        with self.lock:
            if self.ended or self.stopped:
                return False
            self.listeners += ((name, callback, loop),)
            return True

    def remove(self, callback: Callback) -> None:
        with self.lock:
            self.listeners = tuple(entry for entry in self.listeners if entry[1] != callback)

    def run(self) -> None:
        batch: list[Event] = []
        while (event := _pop(self.pending)) is not None:  # taken earlier, handed to no one
            batch.append(event)
        take = self.events.take_events
        while True:
            if not batch:
                text = take()
                if text is None:
                    break
                batch = _parse(text)
            with self.lock:
                listeners = self.listeners
                if not listeners:
                    self.pending.extend(batch)
                    self.stopped = True
                    return
                # A listener added after this sees `ended` and never waits for `closed`.
                self.ended = batch[-1].name == "closed"
            _flowai.as_sdk_thread(_deliver, batch, listeners)
            batch = []
        with self.lock:
            self.ended = True
            self.listeners = ()


class Object:
    """One open object of the SDK; every class of ``flowai`` derives from it."""

    _kind: ClassVar[str] = ""
    _by_kind: ClassVar[dict[str, type[Object]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls._kind:
            Object._by_kind[cls._kind] = cls

    def __init__(self, **settings: Any) -> None:
        """Open the object (connect, bind) with ``settings``; ``FLOWAI_*`` fill the rest."""
        self._adopt(_flowai.Handle.open(self._kind, settings))  # type: ignore[arg-type]

    @classmethod
    def connect(cls, **settings: Any) -> Self:
        """Open the object, waiting with the GIL released."""
        return cls(**settings)

    @classmethod
    async def connect_async(cls, **settings: Any) -> Self:
        """Open the object without blocking the asyncio loop."""
        return cls._wrap(await _flowai.Handle.open_async(cls._kind, settings))  # type: ignore[arg-type]

    @classmethod
    def _wrap(cls, handle: _flowai.Handle) -> Self:
        obj = cls.__new__(cls)
        obj._adopt(handle)
        return obj

    def _adopt(self, handle: _flowai.Handle) -> None:
        self._handle = handle
        self._events = handle.events
        self._pending: deque[Event] = deque()
        self._lock = threading.Lock()
        self._dispatcher: _Dispatcher | None = None
        self._over = False  # `closed` went out through next_event

    def _result(self, value: Any) -> Any:
        if isinstance(value, _flowai.Handle):
            return Object._by_kind[value.kind]._wrap(value)
        return value

    def call(self, method: str, args: dict[str, Any] | None = None) -> Any:
        """Call ``method`` by its name with ``args``, checked against the method table."""
        return self._result(self._handle.call(method, args))

    async def call_async(self, method: str, args: dict[str, Any] | None = None) -> Any:
        """``call`` without blocking the asyncio loop."""
        return self._result(await self._handle.call_async(method, args))

    def close(self) -> None:
        """End the object; its events end with ``closed``. Closing twice is fine."""
        self._handle.close()

    async def close_async(self) -> None:
        """``close`` without blocking the asyncio loop."""
        await self._handle.close_async()

    @property
    def closed(self) -> bool:
        """Whether the object was closed or ended by itself."""
        return self._handle.closed

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close_async()

    def __repr__(self) -> str:
        return f"<flowai.{type(self).__name__}{' closed' if self.closed else ''}>"

    def _listen(
        self, name: str, callback: Callback, loop: asyncio.AbstractEventLoop | None
    ) -> _Dispatcher | None:
        """Add a listener, starting an event thread when none runs (after the listener is in,
        so it sees every event); None when the events are over."""
        with self._lock:
            while True:
                dispatcher = self._dispatcher
                if dispatcher is None or dispatcher.stopped:
                    if self._over:
                        return None
                    dispatcher = self._dispatcher = _Dispatcher(self._handle.kind, self._events, self._pending)
                    _LIVE.add(self)
                if dispatcher.add(name, callback, loop):
                    break
                if dispatcher.ended:
                    return None
            if dispatcher.ident is None:
                dispatcher.start()
        return dispatcher

    def on(self, name: str, callback: Callback) -> Callback:
        """Call ``callback(event)`` for every event called ``name`` (``"*"``: every event),
        after the callbacks registered before it. Registered while an asyncio loop runs, it
        is called on that loop, else on the object's event thread. Returns ``callback``."""
        if not isinstance(name, str):
            raise TypeError(f"the event name must be a str, not {type(name).__name__}")
        if name != "*" and name not in _flowai.EVENT_NAMES:
            raise ValueError(f"no event {name!r}; one of: *, {', '.join(_flowai.EVENT_NAMES)}")
        if not callable(callback):
            raise TypeError(f"the callback must be callable, not {type(callback).__name__}")
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        self._listen(name, callback, loop)
        return callback

    def off(self, callback: Callback) -> None:
        """Stop calling ``callback``."""
        if self._dispatcher is not None:
            self._dispatcher.remove(callback)

    def _took(self, event: Event) -> Event:
        self._over = event.name == "closed"
        return event

    def next_event(self, timeout: float | None = None) -> Event | None:
        """The next event, waiting up to ``timeout`` seconds (None: until one comes) with the
        GIL released; None when none came in time or after ``closed``. While callbacks are
        registered, it gets the events that arrive while it waits (the callbacks too)."""
        if (event := _pop(self._pending)) is not None:
            return self._took(event)
        if self._over:
            return None
        dispatcher = self._dispatcher
        if dispatcher is not None and not (dispatcher.stopped or dispatcher.ended):
            return self._wait_listening(timeout)
        text = self._events.take_events(timeout=timeout)
        if text is None:
            return None
        self._pending.extend(_parse(text))
        event = _pop(self._pending)
        return self._took(event) if event is not None else None

    def _wait_listening(self, timeout: float | None) -> Event | None:
        _flowai.ensure_may_block()  # in a callback, this thread may be the one to deliver
        box: queue.SimpleQueue[Event] = queue.SimpleQueue()
        inbox = _Inbox(box.put, self._pending)
        dispatcher = self._listen("*", inbox, None)
        if dispatcher is None:
            return None
        try:
            event = box.get(timeout=timeout)
        except queue.Empty:
            return None
        finally:
            inbox.detach(dispatcher, lambda: _drain(box))
        return self._took(event)

    def __iter__(self) -> Iterator[Event]:
        """Every event until ``closed`` (included), waiting with the GIL released."""
        while (event := self.next_event()) is not None:
            yield event

    async def __aiter__(self) -> AsyncIterator[Event]:
        """Every event until ``closed`` (included), delivered on the running loop. Events
        that come after the loop stopped wait for the next iteration."""
        while not self._over and (event := _pop(self._pending)) is not None:
            yield self._took(event)
        if self._over:
            return
        box: asyncio.Queue[Event] = asyncio.Queue()
        inbox = _Inbox(box.put_nowait, self._pending)
        dispatcher = self._listen("*", inbox, asyncio.get_running_loop())
        if dispatcher is None:
            return
        try:
            while not self._over:
                yield self._took(await box.get())
        finally:
            inbox.detach(dispatcher, lambda: _drain(box))


_LIVE: weakref.WeakSet[Object] = weakref.WeakSet()


@atexit.register
def _close_at_exit() -> None:
    """Close the objects whose event thread still runs and let those threads end, so no
    thread is inside the native module while the interpreter finalizes."""
    for obj in list(_LIVE):
        try:
            obj.close()
        except Exception:  # exiting anyway; the object's thread still gets `closed`
            pass
    for thread in threading.enumerate():
        if isinstance(thread, _Dispatcher):
            thread.join(timeout=2)
