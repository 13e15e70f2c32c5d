"""Caches bounded in bytes, not entries: what a process holds stays under a set size.

A cache that counts entries is unbounded in practice: one cached answer can be
200 bytes or 300 KB (``limit=50&group=article``).  :class:`BoundedLRU` is
cachetools' ``LRUCache`` measured by :func:`deep_size` of each key and value,
behind a lock (cachetools' caches are not thread-safe), counting its hits and
misses for ``/metrics``.
"""

import sys
import threading

import cachetools

#: Containers :func:`deep_size` walks into; anything else counts its own size only.
_CONTAINERS = (dict, list, tuple, set, frozenset)


def deep_size(obj):
    """The bytes ``obj`` holds: ``sys.getsizeof`` of it and everything it contains.

    Walks dicts, lists, tuples, sets and objects' ``__dict__`` (dataclasses);
    an object reached twice is counted once.  Numpy arrays report their buffer.

    >>> deep_size("abc") == sys.getsizeof("abc")
    True
    >>> deep_size(["abc", "abc"]) == sys.getsizeof(["abc", "abc"]) + sys.getsizeof("abc")
    True
    """
    seen = set()
    total = 0
    stack = [obj]
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen.add(id(o))
        total += sys.getsizeof(o)
        if isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, _CONTAINERS):
            stack.extend(o)
        elif hasattr(o, "__dict__"):
            stack.append(o.__dict__)
    return total


class BoundedLRU:
    """A thread-safe least-recently-used map holding at most ``max_bytes``.

    Each entry is measured once, when it is put, by ``sizeof(key) + sizeof(value)``
    (default :func:`deep_size`).  An entry larger than the whole cache is not kept.

    >>> c = BoundedLRU(1000)
    >>> c.put("a", "x" * 100); c.get("a") == "x" * 100, c.get("b")
    (True, None)
    >>> c.put("big", "x" * 5000); c.get("big"), c.hits, c.misses
    (None, 1, 2)
    """

    def __init__(self, max_bytes, sizeof=deep_size):
        self.max_bytes = max(0, int(max_bytes))
        self._sizeof = sizeof
        # Values are stored as (value, size): the size is measured once, outside the lock.
        self._data = cachetools.LRUCache(maxsize=max(self.max_bytes, 1), getsizeof=lambda item: item[1])
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key):
        """The value for ``key`` (now the most recently used), or None."""
        with self._lock:
            item = self._data.get(key)
            if item is None:
                self.misses += 1
                return None
            self.hits += 1
            return item[0]

    def put(self, key, value):
        """Keep ``value``, evicting the least recently used entries to make room."""
        if self.max_bytes <= 0:
            return
        size = self._sizeof(key) + self._sizeof(value)
        if size > self.max_bytes:
            return
        with self._lock:
            self._data[key] = (value, size)

    def clear(self):
        with self._lock:
            self._data.clear()

    @property
    def bytes(self):
        """The bytes the entries now held measured when they were put."""
        return self._data.currsize

    def __len__(self):
        return len(self._data)
