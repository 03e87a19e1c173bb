"""JSON-LD @context handling: turn a request's @context into a term map, expand and compact terms.

A context is *processed once* with pyld (cached by its JSON identity) into a :class:`TermMap`;
entity types, attribute names and vocab values are then expanded and compacted with plain dict
look-ups. Full JSON-LD expansion per entity would be far too slow for a broker.

Documents come from a custom loader: the core @context is shipped in the package and answered for
every known core-context URL; contexts registered through ``/jsonldContexts`` come from the
database; any other http(s) URL is fetched with a short timeout and cached in memory and in the
database. A context that cannot be loaded raises :class:`LdContextNotAvailable` (504).
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from pyld import jsonld

from saola.context.errors import BadRequestData, LdContextNotAvailable
from saola.context.representation import DEFAULT_VOCAB

CORE_CONTEXT_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
CORE_CONTEXT_URLS = frozenset(
    ["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"]
    + [f"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.{minor}.jsonld" for minor in range(3, 10)]
)
FETCH_TIMEOUT_SECONDS = 3.0
MAX_CONTEXT_BYTES = 1_000_000

# Finds a document by URL outside the package (the database, the network); None when unknown.
DocumentSource = Callable[[str], dict[str, Any] | None]


@cache
def core_context_document() -> dict[str, Any]:
    text = (resources.files("saola.context") / "contexts" / "ngsi-ld-core-context-v1.8.jsonld").read_text("utf-8")
    return json.loads(text)


def fetch_remote(url: str) -> dict[str, Any]:
    """GET a remote @context document (short timeout, size limit)."""
    if not url.startswith(("http://", "https://")):
        raise LdContextNotAvailable(f"The @context {url!r} is not an http(s) URL")
    request = urllib.request.Request(url, headers={"Accept": "application/ld+json, application/json"})
    try:
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:
            body = response.read(MAX_CONTEXT_BYTES + 1)
    except Exception as exc:  # any network failure is the same answer to the client
        raise LdContextNotAvailable(f"The @context {url} could not be retrieved: {exc}") from None
    if len(body) > MAX_CONTEXT_BYTES:
        raise LdContextNotAvailable(f"The @context {url} is too large")
    try:
        document = json.loads(body)
    except ValueError:
        raise LdContextNotAvailable(f"The @context {url} is not JSON") from None
    if not isinstance(document, dict) or "@context" not in document:
        raise LdContextNotAvailable(f"The document at {url} has no @context")
    return document


@dataclass
class TermMap:
    """An active context reduced to what the broker needs: term → IRI and IRI → shortest term."""

    terms: dict[str, str]
    vocab: str
    prefixes: dict[str, str]
    context: Any  # the request's @context as the client gave it (echoed in answers)
    keywords: frozenset[str] = frozenset()  # terms that alias a JSON-LD keyword (``id``, ``type``)
    reverse: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for term, iri in sorted(self.terms.items(), key=lambda kv: (len(kv[0]), kv[0])):
            self.reverse.setdefault(iri, term)

    def expand(self, term: str) -> str:
        """The IRI of ``term`` (a type, attribute name or vocab value)."""
        found = self.terms.get(term)
        if found is not None:
            return found
        prefix, sep, suffix = term.partition(":")
        if sep:
            base = self.prefixes.get(prefix)
            if base is not None and not suffix.startswith("//"):
                return base + suffix
            return term
        return self.vocab + term

    def compact(self, iri: str) -> str:
        """The shortest term of this context for ``iri``, else the IRI itself."""
        found = self.reverse.get(iri)
        if found is not None:
            return found
        if iri.startswith(self.vocab):
            rest = iri[len(self.vocab):]
            if rest and ":" not in rest and "/" not in rest and "#" not in rest and rest not in self.terms:
                return rest
        return self._compact_iri(iri)

    def _compact_iri(self, iri: str) -> str:
        """A compact IRI ``prefix:suffix`` (JSON-LD IRI compaction), e.g. ``ngsi-ld:default-context/x``
        when the term ``x`` of the default vocabulary is taken by another IRI; else the IRI itself."""
        best = iri
        for prefix, base in self.prefixes.items():
            if iri.startswith(base) and len(iri) > len(base):
                candidate = f"{prefix}:{iri[len(base):]}"
                if len(candidate) < len(best) and candidate not in self.terms and "//" not in candidate:
                    best = candidate
        return best


class ContextProcessor:
    """Processes @contexts into :class:`TermMap` objects, caching them in memory (thread-safe)."""

    def __init__(self, max_entries: int = 256) -> None:
        self._maps: dict[str, TermMap] = {}
        self._documents: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def forget(self, url: str) -> None:
        with self._lock:
            self._documents.pop(url, None)
            self._maps.clear()

    def term_map(self, context: Any, source: DocumentSource | None = None) -> TermMap:
        """The term map of a request's @context (a URL, an object or a list; None = core only)."""
        key = json.dumps(context, sort_keys=True)
        with self._lock:
            found = self._maps.get(key)
        if found is not None:
            return found
        term_map = self._process(context, source)
        with self._lock:
            if len(self._maps) >= self.max_entries:
                self._maps.clear()
            self._maps[key] = term_map
        return term_map

    def _document(self, url: str, source: DocumentSource | None) -> dict[str, Any]:
        if url in CORE_CONTEXT_URLS:
            return core_context_document()
        with self._lock:
            found = self._documents.get(url)
        if found is not None:
            return found
        document = source(url) if source is not None else None
        if document is None:
            document = fetch_remote(url)
        with self._lock:
            self._documents[url] = document
        return document

    def _process(self, context: Any, source: DocumentSource | None) -> TermMap:
        local = [] if context is None else (list(context) if isinstance(context, list) else [context])
        for item in local:
            if not isinstance(item, (str, dict)):
                raise BadRequestData("An @context must be a URL, an object, or a list of them")
        # The core context comes last: its terms cannot be redefined by a user context.
        user = [c for c in local if not (isinstance(c, str) and c in CORE_CONTEXT_URLS)]
        chain = [*user, core_context_document()["@context"]]

        def loader(url: str, options: Any = None) -> dict[str, Any]:
            return {"contextUrl": None, "documentUrl": url, "document": self._document(url, source)}

        processor = jsonld.JsonLdProcessor()
        try:
            active = processor.process_context(
                processor._get_initial_context({}), chain, {"documentLoader": loader, "base": ""},
            )
        except LdContextNotAvailable:
            raise
        except jsonld.JsonLdError as exc:
            cause = _root_cause(exc)
            if isinstance(cause, LdContextNotAvailable):
                raise cause from None
            raise BadRequestData(f"The @context is not valid JSON-LD: {exc.type if hasattr(exc, 'type') else exc}") \
                from None
        except (TypeError, ValueError, KeyError, RecursionError) as exc:
            raise BadRequestData(f"The @context is not valid JSON-LD: {exc}") from None
        terms: dict[str, str] = {}
        prefixes: dict[str, str] = {}
        keywords: set[str] = set()
        for term, definition in active["mappings"].items():
            iri = definition.get("@id") if definition else None
            if isinstance(iri, str) and iri.startswith("@"):
                keywords.add(term)
            if not isinstance(iri, str) or iri.startswith("@") or definition.get("reverse"):
                continue
            terms[term] = iri
            if iri.endswith(("/", "#", ":")) or definition.get("_prefix"):
                prefixes[term] = iri
        vocab = active.get("@vocab") or DEFAULT_VOCAB
        return TermMap(terms=terms, vocab=vocab, prefixes=prefixes, context=context, keywords=frozenset(keywords))


def _root_cause(exc: BaseException) -> BaseException:
    seen = 0
    while seen < 20:
        nxt = getattr(exc, "cause", None) or exc.__cause__ or exc.__context__
        if nxt is None:
            return exc
        if isinstance(nxt, LdContextNotAvailable):
            return nxt
        exc = nxt
        seen += 1
    return exc
