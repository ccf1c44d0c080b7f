//! Generated Python sources: `flowai/_api.py` (a class per kind, an exception per error code) and the stubs of it and of the native module.
//!
//! Every method becomes a blocking method and an `*_async` twin by one rule (required
//! parameters positional, optional ones keyword-only, paths through `os.fspath`), so the
//! Python API cannot drift from the table; the stubs carry the table's types, and
//! stubtest checks them against the module at run time.

use std::fmt::Write;

use flowai_core::event::NAMES;

use super::SettingType;
use crate::api::{KINDS, Kind, METHODS, Method, Param, Type};
use crate::errors::{Code, table};

/// The generated wrapper classes and exceptions.
pub const API_PATH: &str = "python/flowai/_api.py";
/// Their stub.
pub const API_STUB_PATH: &str = "python/flowai/_api.pyi";
/// The stub of the native module `flowai._flowai` (bindings/python).
pub const NATIVE_STUB_PATH: &str = "python/flowai/_flowai.pyi";

/// The generated files of this language.
pub fn files() -> Vec<(&'static str, String)> {
    vec![
        (API_PATH, api(false)),
        (API_STUB_PATH, api(true)),
        (NATIVE_STUB_PATH, native_stub()),
    ]
}

const HEADER: &str = "Generated from flowai-ffi's method and error tables by\n\
    crates/flowai-ffi/src/codegen/python.rs: do not edit.\n\
    `FLOWAI_BLESS=1 cargo test -p flowai-ffi --test generated` rewrites it.";

/// The exception class of an error code: `FLOWAI_QUEUE_FULL` -> `QueueFullError`; the two
/// names Python users already know keep their spelling.
fn error_class(code: &str) -> String {
    let name = code.trim_start_matches("FLOWAI_");
    match name {
        "AUTH" => "AuthenticationError".into(),
        "HTTP" => "HTTPError".into(),
        _ => {
            let words: String = name
                .split('_')
                .map(|w| {
                    let lower = w.to_ascii_lowercase();
                    let mut chars = lower.chars();
                    chars
                        .next()
                        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                        .unwrap_or_default()
                })
                .collect();
            format!("{words}Error")
        }
    }
}

/// The built-in exception an error also is, so `except TimeoutError` catches ours.
fn error_builtin(code: &str) -> Option<&'static str> {
    match code {
        "FLOWAI_INVALID_ARGUMENT" => Some("builtins.ValueError"),
        "FLOWAI_TIMEOUT" => Some("builtins.TimeoutError"),
        "FLOWAI_CONNECTION" => Some("builtins.ConnectionError"),
        _ => None,
    }
}

/// The error codes that have an exception (all but `FLOWAI_OK`).
fn errors() -> Vec<Code> {
    table().into_iter().filter(|c| c.number != 0).collect()
}

/// The Python type of a parameter.
fn param_type(ty: Type) -> String {
    match ty {
        Type::Str => "str".into(),
        Type::Int => "int".into(),
        Type::Float => "float".into(),
        Type::Bool => "bool".into(),
        Type::StrList => "list[str]".into(),
        Type::Path => "str | os.PathLike[str]".into(),
        Type::Coordinate => "float | str".into(),
        Type::Object => "dict[str, Any]".into(),
        Type::Json
        | Type::Nothing
        | Type::Model(_)
        | Type::ModelList(_)
        | Type::MaybeModel(_)
        | Type::Handle(_) => "Any".into(),
    }
}

/// The Python type of a result.
fn result_type(ty: Type) -> String {
    match ty {
        Type::Nothing => "None".into(),
        Type::Model(_) => "dict[str, Any]".into(),
        Type::ModelList(_) => "list[dict[str, Any]]".into(),
        Type::MaybeModel(_) => "dict[str, Any] | None".into(),
        Type::Handle(kind) => class_of(kind).into(),
        other => param_type(other),
    }
}

/// The type of a setting, by the settings' naming rule (durations `*_ms` and counts are
/// whole numbers).
fn setting_type(name: &str) -> &'static str {
    match super::setting_type(name) {
        SettingType::Int => "int",
        SettingType::Float => "float",
        SettingType::Bool => "bool",
        SettingType::Originator => "dict[str, Any]",
        SettingType::Str => "str",
    }
}

fn class_of(kind: &str) -> &'static str {
    KINDS
        .iter()
        .find(|k| k.name == kind)
        .map_or("Object", |k| k.class)
}

/// `thread_id: str, text: str, *, trace_id: int | None = None` (types in stubs only).
fn signature(params: &[Param], typed: bool) -> String {
    let mut parts = vec!["self".to_string()];
    let mut star = false;
    for p in params {
        if !p.required && !star {
            parts.push("*".into());
            star = true;
        }
        let ty = param_type(p.ty);
        parts.push(match (typed, p.required) {
            (false, true) => p.name.to_string(),
            (false, false) => format!("{}=None", p.name),
            (true, true) => format!("{}: {ty}", p.name),
            (true, false) => format!("{}: {ty} | None = None", p.name),
        });
    }
    parts.join(", ")
}

/// The call of a method through the native handle, and its result wrapped when it is an
/// object.
fn body(method: &Method, asynchronous: bool) -> String {
    let args: Vec<String> = method
        .params
        .iter()
        .map(|p| match (p.ty, p.required) {
            (Type::Path, true) => format!("\"{0}\": _fspath({0})", p.name),
            (Type::Path, false) => format!("\"{0}\": _fspath_or_none({0})", p.name),
            _ => format!("\"{0}\": {0}", p.name),
        })
        .collect();
    let (call, wait) = if asynchronous {
        ("call_async", "await ")
    } else {
        ("call", "")
    };
    let mut s = format!("{wait}self._handle.{call}(\"{}\"", method.name);
    if !args.is_empty() {
        let _ = write!(s, ", {{{}}}", args.join(", "));
    }
    s.push(')');
    match method.returns {
        Type::Handle(kind) => format!("{}._wrap({s})", class_of(kind)),
        _ => s,
    }
}

/// A docstring line or block, indented.
fn doc(out: &mut String, indent: &str, text: &str) {
    let _ = writeln!(out, "{indent}\"\"\"{text}\"\"\"");
}

fn api(stub: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\"\"\"Every kind of flowai object as a class, and every error code as an exception.\n\n{HEADER}\n\"\"\"\n"
    );
    if !stub {
        s.push_str("from __future__ import annotations\n\n");
    }
    s.push_str("import builtins\n");
    if stub {
        s.push_str("import os\n");
    }
    s.push_str("from collections.abc import AsyncIterator, Iterator\n");
    if !stub {
        s.push_str("from os import fspath as _fspath\n");
    }
    s.push_str("from typing import Any\n");
    s.push_str("\nfrom ._object import Object\n\n__all__ = [\n    \"EVENT_NAMES\",\n    \"ERRORS\",\n    \"FlowAIError\",\n");
    for code in errors() {
        let _ = writeln!(s, "    \"{}\",", error_class(code.code));
    }
    for kind in KINDS {
        let _ = writeln!(s, "    \"{}\",", kind.class);
    }
    let _ = writeln!(s, "    \"{PAGES_CLASS}\",");
    s.push_str("]\n\n");
    errors_section(&mut s, stub);
    if !stub {
        s.push_str(
            "\n\ndef _fspath_or_none(path: Any) -> Any:\n    return None if path is None else _fspath(path)\n",
        );
    }
    s.push_str(PAGES);
    s.push_str(if stub { PAGES_STUB } else { PAGES_BODY });
    for kind in KINDS {
        kind_class(&mut s, kind, stub);
    }
    s
}

fn errors_section(s: &mut String, stub: bool) {
    let names: Vec<String> = NAMES.iter().map(|n| format!("\"{n}\"")).collect();
    s.push_str("#: Every event name; `closed` is always the last event of an object.\n");
    if stub {
        s.push_str("EVENT_NAMES: tuple[str, ...]\n");
    } else {
        let _ = writeln!(s, "EVENT_NAMES = ({})", names.join(", "));
    }
    s.push_str("\n\nclass FlowAIError(Exception):\n");
    doc(
        s,
        "    ",
        "Base of every flowai error.\n\n    \
         ``code`` is the stable code shared by every language (``FLOWAI_...``), ``message``\n    \
         the core's message, ``status`` the HTTP status when an HTTP answer caused the error.\n    ",
    );
    if stub {
        s.push_str(
            "\n    code: str\n    message: str\n    status: int | None\n\n    \
             def __init__(self, message: str = \"\", *, status: int | None = None) -> None: ...\n",
        );
    } else {
        s.push_str(
            "\n    __module__ = \"flowai\"\n    code: str = \"FLOWAI_INTERNAL\"\n\n    \
             def __init__(self, message: str = \"\", *, status: int | None = None) -> None:\n        \
             super().__init__(message)\n        self.message = message\n        self.status = status\n\n    \
             def __str__(self) -> str:\n        return f\"{self.code}: {self.message}\"\n",
        );
    }
    for code in errors() {
        let bases = match error_builtin(code.code) {
            Some(builtin) => format!("FlowAIError, {builtin}"),
            None => "FlowAIError".into(),
        };
        let _ = writeln!(s, "\n\nclass {}({bases}):", error_class(code.code));
        let mut meaning = code.meaning.to_string();
        if let Some(first) = meaning.get(..1) {
            meaning = first.to_uppercase() + &meaning[1..];
        }
        doc(s, "    ", &format!("{meaning} (``{}``).", code.code));
        if !stub {
            let _ = writeln!(
                s,
                "\n    __module__ = \"flowai\"\n    code = \"{}\"",
                code.code
            );
        }
    }
    s.push_str("\n\n#: The exception class of every error code.\n");
    if stub {
        s.push_str(
            "ERRORS: dict[str, type[FlowAIError]]\n\n\
             def _error(code: str, message: str, status: int | None) -> FlowAIError: ...\n",
        );
        return;
    }
    s.push_str("ERRORS: dict[str, type[FlowAIError]] = {\n");
    for code in errors() {
        let _ = writeln!(s, "    \"{}\": {},", code.code, error_class(code.code));
    }
    s.push_str(
        "}\n\n\n\
         def _error(code: str, message: str, status: int | None) -> FlowAIError:\n    \
         \"\"\"The exception of an error of the native module (which calls this).\"\"\"\n    \
         cls = ERRORS.get(code)\n    \
         if cls is not None:\n        return cls(message, status=status)\n    \
         error = FlowAIError(message, status=status)\n    \
         error.code = code  # a code newer than this file\n    \
         return error\n",
    );
}

fn kind_class(s: &mut String, kind: &Kind, stub: bool) {
    let _ = writeln!(s, "\n\nclass {}(Object):", kind.class);
    let mut text = kind.doc.to_string();
    match kind.settings {
        Some([]) => text.push_str("\n\n    Settings: none."),
        Some(fields) => {
            let _ = write!(text, "\n\n    Settings: {}.", fields.join(", "));
        }
        None => {
            let makers: Vec<String> = METHODS
                .iter()
                .filter(|m| m.returns == Type::Handle(kind.name))
                .map(|m| format!("``{}.{}``", class_of(m.kind), m.name))
                .collect();
            let _ = write!(text, "\n\n    Made by {}.", makers.join(" or "));
        }
    }
    text.push_str("\n    ");
    doc(s, "    ", &text);
    if stub {
        if let Some(fields) = kind.settings {
            settings_stub(s, kind, fields);
        }
    } else {
        let _ = writeln!(s, "\n    _kind = \"{}\"", kind.name);
    }
    for method in METHODS.iter().filter(|m| m.kind == kind.name) {
        if method.paged {
            paged_method(s, method, stub);
            continue;
        }
        for asynchronous in [false, true] {
            let (prefix, suffix) = if asynchronous {
                ("async def", "_async")
            } else {
                ("def", "")
            };
            let name = format!("{}{suffix}", method.name);
            let sig = signature(method.params, stub);
            s.push('\n');
            if stub {
                let result = result_type(method.returns);
                let _ = writeln!(s, "    {prefix} {name}({sig}) -> {result}: ...");
                continue;
            }
            let _ = writeln!(s, "    {prefix} {name}({sig}):");
            let text = if asynchronous {
                format!("{} (asyncio)", method.doc)
            } else {
                method.doc.to_string()
            };
            doc(s, "        ", &text);
            let _ = writeln!(s, "        return {}", body(method, asynchronous));
        }
    }
}

/// A paged method: one form, giving a [`PAGES_CLASS`] that iterates with `for` and `async for`.
fn paged_method(s: &mut String, method: &Method, stub: bool) {
    let sig = signature(method.params, stub);
    if stub {
        let _ = writeln!(s, "\n    def {}({sig}) -> {PAGES_CLASS}: ...", method.name);
        return;
    }
    let args: Vec<String> = method
        .params
        .iter()
        .map(|p| format!("\"{0}\": {0}", p.name))
        .collect();
    let _ = writeln!(s, "\n    def {}({sig}):", method.name);
    doc(
        s,
        "        ",
        &format!("{} Iterate with ``for`` or ``async for``.", method.doc),
    );
    let _ = writeln!(
        s,
        "        return {PAGES_CLASS}(self, \"{}\", {{{}}})",
        method.name,
        args.join(", ")
    );
}

/// The iterable a paged method gives.
const PAGES_CLASS: &str = "Pages";

/// [`PAGES_CLASS`]: each iteration opens a cursor (`page_cursor`) and walks it.
const PAGES: &str = r#"

class Pages:
    """The items of a listing, fetched a page at a time when iteration reaches them:
    ``for item in pages`` (waiting with the GIL released) or ``async for item in pages``.
    Each iteration starts again from the first page; an error of a fetch is raised there.
    """
"#;

const PAGES_BODY: &str = r#"
    def __init__(self, owner: Object, method: str, args: dict[str, Any]) -> None:
        self._owner = owner
        self._method = method
        self._args = args

    def __iter__(self) -> Iterator[dict[str, Any]]:
        cursor = self._owner.call(self._method, self._args)
        try:
            while (page := cursor.next()) is not None:
                yield from page["items"]
        finally:
            cursor.close()

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        cursor = await self._owner.call_async(self._method, self._args)
        try:
            while (page := await cursor.next_async()) is not None:
                for item in page["items"]:
                    yield item
        finally:
            await cursor.close_async()
"#;

const PAGES_STUB: &str = "
    def __init__(self, owner: Object, method: str, args: dict[str, Any]) -> None: ...
    def __iter__(self) -> Iterator[dict[str, Any]]: ...
    def __aiter__(self) -> AsyncIterator[dict[str, Any]]: ...
";

/// The typed constructor and `connect` forms of a kind with settings (narrower than the
/// base class's `**settings`, which takes any kind's: hence the override notes).
fn settings_stub(s: &mut String, kind: &Kind, fields: &[&str]) {
    let mut params = String::new();
    if !fields.is_empty() {
        params.push_str(", *");
        for f in fields {
            let _ = write!(params, ", {f}: {} | None = None", setting_type(f));
        }
    }
    let class = kind.class;
    let _ = write!(
        s,
        "\n    def __init__(self{params}) -> None: ...\n    \
         @classmethod\n    def connect(cls{params}) -> {class}: ...  # type: ignore[override]\n    \
         @classmethod\n    async def connect_async(cls{params}) -> {class}: ...  # type: ignore[override]\n"
    );
}

fn native_stub() -> String {
    let kinds: Vec<String> = KINDS
        .iter()
        .filter(|k| k.settings.is_some())
        .map(|k| format!("\"{}\"", k.name))
        .collect();
    let all: Vec<String> = KINDS.iter().map(|k| format!("\"{}\"", k.name)).collect();
    let mut s = String::new();
    let _ = write!(
        s,
        "\"\"\"The native module: flowai-ffi's objects (``Handle``) and their events (``Events``).\n\n\
         {HEADER}\n\"\"\"\n\n\
         from collections.abc import Awaitable, Callable\n\
         from typing import Any, Literal, TypeVar, final\n\n\
         __all__ = [\"Handle\", \"Events\", \"as_sdk_thread\", \"report\", \"ensure_may_block\", \"set_log_handler\", \"__version__\", \"ERRORS\", \"EVENT_NAMES\", \"MAX_BATCH\", \"DEBUG_BUILD\"]\n\n\
         _T = TypeVar(\"_T\")\n\
         _Opened = Literal[{}]\n\
         _Kind = Literal[{}]\n\n\
         __version__: str\n\
         #: (code, number, meaning) of every error code, FLOWAI_OK first.\n\
         ERRORS: tuple[tuple[str, int, str], ...]\n\
         EVENT_NAMES: tuple[str, ...]\n\
         MAX_BATCH: int\n\
         DEBUG_BUILD: bool\n\n\
         @final\n\
         class Handle:\n    \
         @staticmethod\n    \
         def open(kind: _Opened, settings: dict[str, Any] | None = None) -> Handle: ...\n    \
         @staticmethod\n    \
         def open_async(kind: _Opened, settings: dict[str, Any] | None = None) -> Awaitable[Handle]: ...\n    \
         def call(self, method: str, args: dict[str, Any] | None = None) -> Any: ...\n    \
         def call_async(self, method: str, args: dict[str, Any] | None = None) -> Awaitable[Any]: ...\n    \
         def close(self) -> None: ...\n    \
         def close_async(self) -> Awaitable[None]: ...\n    \
         @property\n    def kind(self) -> _Kind: ...\n    \
         @property\n    def closed(self) -> bool: ...\n    \
         @property\n    def events(self) -> Events: ...\n\n\
         @final\n\
         class Events:\n    \
         def take_events(self, max: int = ..., timeout: float | None = None) -> str | None: ...\n\n\
         def as_sdk_thread(f: Callable[..., _T], *args: Any) -> _T: ...\n\
         def report(exc: BaseException, source: object) -> None: ...\n\
         def ensure_may_block() -> None: ...\n\
         def set_log_handler(handler: Callable[[int, str, str], object] | None) -> None: ...\n",
        kinds.join(", "),
        all.join(", ")
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paged_methods_give_one_iterable_form() {
        let py = api(false);
        assert!(py.contains(
            "    def messages(self, thread_id):\n        \"\"\"Every message of a thread, a page fetched when iteration reaches it. Iterate with ``for`` or ``async for``.\"\"\"\n        return Pages(self, \"messages\", {\"thread_id\": thread_id})\n"
        ));
        assert!(!py.contains("def messages_async"));
        let stub = api(true);
        assert!(stub.contains("    def threads(self) -> Pages: ..."));
        assert!(stub.contains("    def next(self) -> dict[str, Any] | None: ..."));
    }

    #[test]
    fn error_classes_keep_their_python_names() {
        assert_eq!(error_class("FLOWAI_QUEUE_FULL"), "QueueFullError");
        assert_eq!(
            error_class("FLOWAI_INVALID_ARGUMENT"),
            "InvalidArgumentError"
        );
        assert_eq!(error_class("FLOWAI_AUTH"), "AuthenticationError");
        assert_eq!(error_class("FLOWAI_MISUSE"), "MisuseError");
    }

    #[test]
    fn required_parameters_are_positional_and_optional_ones_keyword_only() {
        let method = crate::api::method("messaging", "send_text").expect("in the table");
        assert_eq!(
            signature(method.params, false),
            "self, thread_id, text, *, trace_id=None, lang=None, timezone=None, params=None"
        );
        let upload = crate::api::method("session", "upload").expect("in the table");
        assert_eq!(
            body(upload, true),
            "await self._handle.call_async(\"upload\", {\"path\": _fspath(path)})"
        );
        let new_session = crate::api::method("aida", "new_session").expect("in the table");
        assert_eq!(
            body(new_session, false),
            "AidaSession._wrap(self._handle.call(\"new_session\", {\"data\": data}))"
        );
    }
}
