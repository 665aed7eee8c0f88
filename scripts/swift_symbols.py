#!/usr/bin/env python3
"""Checks the hand-written Swift against the generated bindings and the app's
Info.plist properties, without a Swift compiler.

Usage:
  swift_symbols.py --bindings target/bindings/swift/pollen.swift \
      [--project ios/PollenApp/project.yml] [--package ios/PollenKit/Package.swift] \
      FILE_OR_DIR...

No Swift compiler runs here, so nothing type-checks the Swift. This parses
the generated `pollen.swift` and the hand-written files with tree-sitter-swift
and checks, where the type of a receiver can be told from the source
(annotations, `let x = <typed expression>`, closure parameters of wrappers
such as `call { $0... }`, `ForEach(list) { item in }`, `for x in list`):

- imports: a file naming a generated type imports `PollenBindings` (files of
  PollenKit directly; app files may import PollenKit when PollenKit has
  `@_exported import PollenBindings`);
- calls: `x.method(label: ...)` and `Type.staticMethod(...)` on a generated
  type (and on hand-written types) name a method that exists, with argument
  labels that fit one of its declarations (defaults and trailing closures
  counted); `Record(label: ...)` fits the record's initialiser;
- fields: `x.field` on a generated record is one of its fields;
- enum cases: `PollenError.Case`, `CallbackError.Failed(detail:)`;
- conformances: a hand-written type adopting a generated protocol
  (`PollenListener`, `BleRadio`, `PlatformTransport`) implements every
  requirement with the same name and labels.

With --project (XcodeGen): the app target's `info.properties` carries the
usage strings and background modes the Swift needs (CoreBluetooth, Network,
camera, microphone; state restoration -> bluetooth-central/-peripheral; Bonjour service
types in the Swift -> NSBonjourServices; BGTask identifiers the Swift
registers -> BGTaskSchedulerPermittedIdentifiers and `fetch`/`processing`;
App Group containers the Swift opens -> the application-groups entitlement),
and SWIFT_VERSION is one Xcode 16 accepts. With --package: the
swift-tools-version is one Xcode 16 accepts.

Prints each problem as FILE:LINE: message and a summary with counts of what
was checked; exits 1 if there is any problem.
"""

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import tree_sitter_swift
import yaml
from tree_sitter import Language, Parser

SWIFT = Language(tree_sitter_swift.language())
DOC_ATTR = re.compile(rb"@_documentation\([^)]*\)")
VOID_CLOSURE = re.compile(rb"\{ \(\) \}")
# Protocols a hand-written type may adopt whose members we cannot see; a
# type adopting anything else (NSObject, UIKit...) has members we do not know.
KNOWN_BASES = {"Sendable", "AnyObject", "ObservableObject", "Equatable", "Hashable"}
SWIFT_VERSIONS = {"4.0", "4.2", "5.0", "6.0"}
TOOLS_VERSIONS = {"5.9", "5.10", "6.0", "6.1", "6.2"}
ARRAY_SAME = {"reversed", "sorted", "filter", "shuffled"}
# Free functions of the Swift standard library, Foundation, Dispatch and SwiftUI
# (and `defer`) a call may name without a declaration in the checked files;
# extend it when the Swift starts using another.
SWIFT_FREE = {"min", "max", "abs", "print", "debugPrint", "zip", "stride", "precondition", "assert",
              "preconditionFailure", "assertionFailure", "fatalError", "withCheckedThrowingContinuation",
              "withCheckedContinuation", "withTaskGroup", "withThrowingTaskGroup", "withExtendedLifetime",
              "type", "swap", "sequence", "repeatElement", "withUnsafeBytes", "withUnsafeMutableBytes",
              "withAnimation", "withTransaction", "autoreleasepool", "dispatchPrecondition",
              "defer"}  # (tree-sitter-swift reads `defer { }` as a call)


def parse(path):
    src = DOC_ATTR.sub(lambda m: b" " * len(m.group(0)), Path(path).read_bytes())
    src = VOID_CLOSURE.sub(b"{ 0  }", src)
    return Parser(SWIFT).parse(src), src


def text(node):
    return node.text.decode("utf-8", "replace")


def kids(node):
    """(field name, child) pairs."""
    return [(node.field_name_for_child(i), c) for i, c in enumerate(node.children)]


def norm_type(t):
    """`[Foo]?` -> `[Foo]`, `Foo!` -> `Foo`, attributes dropped."""
    t = re.sub(r"@\w+\s*", "", t or "").strip()
    t = t.rstrip("?!").strip()
    if t.startswith("Swift."):
        t = t[6:]
    return t or None


def element(t):
    m = re.fullmatch(r"\[(.+)\]", t or "")
    return norm_type(m.group(1)) if m else None


@dataclass
class Param:
    label: str
    default: bool
    type: str


@dataclass
class Func:
    name: str
    params: list
    ret: str
    static: bool
    line: int


@dataclass
class TypeInfo:
    name: str
    kind: str
    methods: dict = field(default_factory=dict)  # name -> [Func]
    fields: dict = field(default_factory=dict)  # name -> type
    cases: dict = field(default_factory=dict)  # name -> [labels] or None
    inits: list = field(default_factory=list)
    bases: list = field(default_factory=list)


def func_of(node):
    name, params, ret, static, after_arrow = None, [], None, False, False
    for fname, c in kids(node):
        if c.type == "modifiers" and "static" in text(c).split():
            static = True
        elif fname == "name" and name is None and c.type in ("simple_identifier", "init"):
            name = text(c).strip("`")
        elif c.type == "parameter":
            ext, internal, ptype = None, None, None
            for pf, pc in kids(c):
                if pf == "external_name":
                    ext = text(pc)
                elif pf == "name" and pc.type == "simple_identifier":
                    internal = text(pc)
                elif pf == "name":
                    ptype = text(pc)
            params.append(Param(ext or internal, False, ptype))
        elif fname == "default_value" and params:
            params[-1].default = True
        elif c.type == "->":
            after_arrow = True
        elif after_arrow and fname == "name" and ret is None:
            ret = norm_type(text(c))
    if node.type == "init_declaration":
        name = "init"
    return Func(name, params, ret, static, node.start_point[0] + 1)


def collect_types(tree, into):
    """Every type declaration (and extension) in `tree`, merged by name."""
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.type not in ("class_declaration", "protocol_declaration"):
            continue
        kind_node = node.child_by_field_name("declaration_kind")
        kind = text(kind_node) if kind_node else "class"
        name_node = node.child_by_field_name("name")
        if name_node is None:
            continue
        name = text(name_node).split("<")[0].split(".")[-1]
        t = into.setdefault(name, TypeInfo(name, kind))
        if kind != "extension":
            t.kind = kind
        for f, c in kids(node):
            if c.type == "inheritance_specifier":
                t.bases.append(text(c).replace("@unchecked", "").strip().split(".")[-1])
        body = node.child_by_field_name("body")
        if body is None:
            continue
        for c in body.children:
            if c.type in ("function_declaration", "protocol_function_declaration"):
                fn = func_of(c)
                t.methods.setdefault(fn.name, []).append(fn)
            elif c.type == "init_declaration":
                t.inits.append(func_of(c))
            elif c.type in ("property_declaration", "protocol_property_declaration"):
                pname, ptype = None, None
                for pf, pc in kids(c):
                    if pf == "name":
                        b = pc.child_by_field_name("bound_identifier")
                        pname = text(b) if b else text(pc)
                    elif pc.type == "type_annotation":
                        ptype = norm_type(text(pc)[1:])
                if pname:
                    t.fields[pname] = ptype
            elif c.type == "enum_entry":
                for ef, ec in kids(c):
                    if ef == "name":
                        labels = None
                        t.cases[text(ec)] = labels
                    elif ef == "data_contents":
                        labels = [text(x) for x in ec.children if x.type == "simple_identifier"]
                        last = [k for k in t.cases][-1]
                        t.cases[last] = labels
    return into


def collect_free_funcs(tree):
    """The public top-level functions of the generated file (`gattContract()`...)."""
    out = {}
    for c in tree.root_node.children:
        if c.type == "function_declaration" and any(
                m.type == "modifiers" and "public" in text(m).split() for m in c.children):
            fn = func_of(c)
            out.setdefault(fn.name, []).append(fn)
    return out


def collect_declared(tree, into):
    """Every name the hand-written Swift declares (functions, properties,
    parameters, bindings): a free call to anything else must be a generated
    function or the standard library's."""
    stack = [tree.root_node]
    while stack:
        n = stack.pop()
        stack.extend(n.children)
        if n.type in ("function_declaration", "protocol_function_declaration"):
            nm = n.child_by_field_name("name")
            if nm is not None:
                into.add(text(nm).strip("`"))
        elif n.type in ("parameter", "lambda_parameter"):
            for f, c in kids(n):
                if f in ("name", "external_name") and c.type == "simple_identifier":
                    into.add(text(c))
        elif n.type == "simple_identifier" and n.parent is not None and n.parent.type == "pattern":
            into.add(text(n))
        elif n.type == "pattern":
            b = n.child_by_field_name("bound_identifier")
            if b is not None:
                into.add(text(b))
    return into


def fits(params, labels, trailing):
    """Whether call arguments (labels, '_' for none; trailing closures) fit."""
    i = 0
    for p in params:
        if i < len(labels) and labels[i] == p.label:
            i += 1
        elif p.default:
            continue
        elif trailing > 0 and i == len(labels):
            trailing -= 1
        else:
            return False
    return i == len(labels) and trailing == 0


def shape(fn):
    return "(" + "".join(f"{p.label}:" for p in fn.params) + ")"


class Checker:
    def __init__(self, bindings, hand, funcs=None, declared=None):
        self.b = bindings
        self.h = hand
        self.funcs = funcs or {}
        self.declared = declared or set()
        self.errors = []
        self.counts = {"calls": 0, "fields": 0, "cases": 0, "inits": 0, "conformances": 0, "imports": 0}
        self.file = None

    def err(self, node, msg):
        self.errors.append(f"{self.file}:{node.start_point[0] + 1}: {msg}")

    def info(self, name):
        """(TypeInfo, generated?) for a type name."""
        if name in self.h and name not in self.b:
            return self.h[name], False
        if name in self.b:
            return self.b[name], True
        return None, False

    def checkable_hand(self, t):
        return all(b in KNOWN_BASES or b in self.b or b in self.h for b in t.bases)

    # -- types of expressions

    def type_of(self, node, env):
        if node is None:
            return None
        k = node.type
        if k == "simple_identifier":
            name = text(node)
            if name in env:
                return env[name]
            if name in self.b or name in self.h:
                return "type:" + name
            return None
        if k == "self_expression":
            return env.get("self")
        if k in ("try_expression", "await_expression"):
            return self.type_of(node.child_by_field_name("expr") or node.children[-1], env)
        if k == "navigation_expression":
            t = self.type_of(node.child_by_field_name("target"), env)
            suffix = node.child_by_field_name("suffix")
            name = text(suffix.child_by_field_name("suffix")) if suffix else None
            if t is None or name is None:
                return None
            if t.startswith("type:"):
                info, _ = self.info(t[5:])
                return t[5:] if info and name in info.cases else None
            if element(t) and name in ("first", "last"):
                return element(t)
            info, _ = self.info(t)
            return info.fields.get(name) if info else None
        if k == "call_expression":
            callee = node.children[0]
            if callee.type == "simple_identifier" and (text(callee) in self.b or text(callee) in self.h):
                return text(callee)
            if callee.type == "simple_identifier" and text(callee) in self.funcs:
                return self.funcs[text(callee)][0].ret
            if callee.type == "navigation_expression":
                t = self.type_of(callee.child_by_field_name("target"), env)
                name = text(callee.child_by_field_name("suffix").child_by_field_name("suffix"))
                if t and element(t) and name in ARRAY_SAME:
                    return t
                if t:
                    info, _ = self.info(t[5:] if t.startswith("type:") else t)
                    if info and info.methods.get(name):
                        return info.methods[name][0].ret
            return None
        return None

    # -- the walk

    def walk_file(self, path, tree, src, module, reexported):
        self.file = path
        self.check_import(tree, module, reexported)
        self.visit(tree.root_node, {})

    def check_import(self, tree, module, reexported):
        imports = set()
        used = []
        stack = [tree.root_node]
        while stack:
            n = stack.pop()
            stack.extend(n.children)
            if n.type == "import_declaration":
                ident = [c for c in n.children if c.type == "identifier"]
                if ident:
                    imports.add(text(ident[0]))
            elif n.type in ("type_identifier", "simple_identifier"):
                name = text(n)
                if name in self.b and name not in self.h and self.b[name].kind != "extension":
                    used.append((n, name))
        if not used:
            return
        self.counts["imports"] += 1
        ok = "PollenBindings" in imports or (module != "PollenKit" and "PollenKit" in imports and reexported)
        if not ok:
            node, name = used[0]
            how = "`import PollenBindings`" if module == "PollenKit" else (
                "`import PollenKit` (with `@_exported import PollenBindings` in PollenKit) or `import PollenBindings`")
            self.err(node, f"uses the generated `{name}` without {how}")

    def visit(self, node, env):
        k = node.type
        if k in ("class_declaration", "protocol_declaration"):
            name_node = node.child_by_field_name("name")
            name = text(name_node).split("<")[0] if name_node else None
            env = dict(env)
            if name:
                env["self"] = name
                info = self.h.get(name)
                if info:
                    for f, t in info.fields.items():
                        if t:
                            env.setdefault(f, t)
                    self.check_conformance(node, info)
            for c in node.children:
                self.visit(c, env)
            return
        if k in ("function_declaration", "init_declaration", "lambda_literal"):
            env = dict(env)
            for c in node.children:
                if c.type == "parameter":
                    fn = Param(None, False, None)
                    internal, ptype = None, None
                    for pf, pc in kids(c):
                        if pf == "name" and pc.type == "simple_identifier":
                            internal = text(pc)
                        elif pf == "name":
                            ptype = norm_type(text(pc))
                    if internal and ptype:
                        env[internal] = ptype
            for c in node.children:
                self.visit(c, env)
            return
        if k == "property_declaration" or k in ("if_statement", "guard_statement"):
            self.bind(node, env)
        if k == "for_statement":
            item = node.child_by_field_name("item")
            coll = self.type_of(node.child_by_field_name("collection"), env)
            b = item.child_by_field_name("bound_identifier") if item else None
            if b is not None and element(coll):
                env[text(b)] = element(coll)
        if k == "call_expression":
            self.check_call(node, env)
            return
        if k == "navigation_expression":
            self.check_member(node, env)
        self.check_case_pattern(node)
        for c in node.children:
            self.visit(c, env)

    def bind(self, node, env):
        """`let x: T`, `let x = expr`, `if let x = expr`, `guard let x = expr`."""
        ks = kids(node)
        for i, (f, c) in enumerate(ks):
            target = None
            if f == "name" and c.type == "pattern":
                target = c.child_by_field_name("bound_identifier")
            elif f == "bound_identifier":
                target = c
            if target is None:
                continue
            t = None
            for f2, c2 in ks[i + 1:]:
                if c2.type == "type_annotation":
                    t = norm_type(text(c2)[1:])
                    break
                if f2 in ("value", "condition") and c2.type not in ("=",):
                    t = self.type_of(c2, env)
                    break
            if t:
                env[text(target)] = norm_type(t)

    def args(self, call):
        suffix = [c for c in call.children if c.type == "call_suffix"]
        labels, trailing, lambdas = [], 0, []
        if not suffix:
            return labels, trailing, lambdas
        for c in suffix[0].children:
            if c.type == "value_arguments":
                for a in c.children:
                    if a.type == "value_argument":
                        lab = a.child_by_field_name("name")
                        labels.append(text(lab).strip() if lab else "_")
                        v = a.child_by_field_name("value")
                        if v is not None and v.type == "lambda_literal":
                            lambdas.append(v)
            elif c.type == "lambda_literal":
                trailing += 1
                lambdas.append(c)
        return labels, trailing, lambdas

    def check_call(self, call, env, extra=()):
        callee = call.children[0]
        if self.is_subscript(call):
            for c in call.children:
                self.visit(c, env)
            return
        labels, trailing, lambdas = self.args(call)
        if callee.type in ("await_expression", "try_expression") and callee.children[-1].type == "call_expression" \
                and not labels:
            # tree-sitter-swift reads `await f(x) { ... }` as `(await f(x)) { ... }`:
            # the trailing closure belongs to the inner call.
            self.check_call(callee.children[-1], env, lambdas)
            return
        trailing += len(extra)
        lambdas += list(extra)
        closure_types = []
        if callee.type == "navigation_expression":
            target = callee.child_by_field_name("target")
            name = text(callee.child_by_field_name("suffix").child_by_field_name("suffix"))
            t = self.type_of(target, env)
            self.visit(target, env)
            if t and not element(t):
                meta = t.startswith("type:")
                tname = t[5:] if meta else t
                info, generated = self.info(tname)
                if info and (generated or self.checkable_hand(info)):
                    closure_types = self.check_method(callee, info, generated, name, labels, trailing, meta)
        elif callee.type == "simple_identifier":
            name = text(callee)
            if name in self.b and self.b[name].kind == "struct" and name not in self.h:
                self.counts["inits"] += 1
                inits = self.b[name].inits
                if not any(fits(f.params, labels, trailing) for f in inits):
                    want = " or ".join(f"{name}{shape(f)}" for f in inits)
                    self.err(callee, f"`{name}({''.join(x + ':' for x in labels)})` does not fit the generated {want}")
            elif name in self.funcs and name not in self.declared:
                self.counts["calls"] += 1
                fns = self.funcs[name]
                if not any(fits(f.params, labels, trailing) for f in fns):
                    want = " or ".join(f"{name}{shape(f)}" for f in fns)
                    self.err(callee, f"`{name}({''.join(x + ':' for x in labels)})` does not fit the generated {want}")
            elif name[:1].islower() and name not in self.declared and name not in SWIFT_FREE and name not in env:
                self.counts["calls"] += 1
                self.err(callee, f"`{name}(...)` is neither a generated function nor declared in the hand-written Swift")
            elif name in env.get("__funcs__", {}) or any(name in t.methods for t in self.h.values()):
                for t in self.h.values():
                    for fn in t.methods.get(name, []):
                        closure_types = [p.type for p in fn.params if p.type and "->" in p.type]
            elif name in ("ForEach", "List") and labels:
                first = self.first_arg(call)
                el = element(self.type_of(first, env))
                if el:
                    closure_types = [f"({el}) -> Void"]
        else:
            self.visit(callee, env)
        for a in self.arg_values(call):
            if a.type != "lambda_literal":
                self.visit(a, env)
        for i, lam in enumerate(lambdas):
            lenv = dict(env)
            ctype = closure_types[min(i, len(closure_types) - 1)] if closure_types else None
            m = re.match(r"\s*(?:@\w+\s*)*\(\s*([\w.\[\]]+)\s*\)", ctype or "")
            if m:
                ptype = norm_type(m.group(1))
                lenv["$0"] = ptype
                for p in self.lambda_params(lam)[:1]:
                    lenv[p] = ptype
            self.visit(lam, lenv)

    def is_subscript(self, call):
        for s in call.children:
            if s.type == "call_suffix":
                for c in s.children:
                    if c.type == "value_arguments":
                        return text(c).startswith("[")
        return False

    def first_arg(self, call):
        for v in self.arg_values(call):
            return v
        return None

    def arg_values(self, call):
        out = []
        for s in call.children:
            if s.type != "call_suffix":
                continue
            for c in s.children:
                if c.type == "value_arguments":
                    out += [a.child_by_field_name("value") for a in c.children if a.type == "value_argument"]
        return [v for v in out if v is not None]

    def lambda_params(self, lam):
        out = []
        stack = [c for c in lam.children if c.type == "lambda_function_type"]
        while stack:
            n = stack.pop(0)
            if n.type == "lambda_parameter":
                nm = n.child_by_field_name("name")
                if nm is not None:
                    out.append(text(nm))
            else:
                stack.extend(n.children)
        return out

    def check_method(self, node, info, generated, name, labels, trailing, meta):
        where = "generated" if generated else "hand-written"
        self.counts["calls"] += 1
        if meta and name in info.cases:
            self.counts["cases"] += 1
            want = info.cases[name] or []
            if labels != want:
                self.err(node, f"`{info.name}.{name}({''.join(x + ':' for x in labels)})` does not fit the {where} case "
                               f"`{name}({''.join(x + ':' for x in want)})`")
            return []
        fns = info.methods.get(name, [])
        if not fns and generated:
            for base in info.bases:
                if base in self.b:
                    fns = self.b[base].methods.get(name, [])
                    if fns:
                        break
        if not fns:
            self.err(node, f"the {where} `{info.name}` has no method `{name}`")
            return []
        if not any(fits(f.params, labels, trailing) for f in fns):
            shapes = " or ".join(f"{name}{shape(f)}" for f in fns)
            self.err(node, f"`{info.name}.{name}({''.join(x + ':' for x in labels)})` does not fit the {where} {shapes}")
            return []
        for f in fns:
            if fits(f.params, labels, trailing):
                return [p.type for p in f.params if p.type and "->" in p.type]
        return []

    def check_member(self, nav, env):
        target = nav.child_by_field_name("target")
        suffix = nav.child_by_field_name("suffix")
        if suffix is None or suffix.child_by_field_name("suffix") is None:
            return
        name = text(suffix.child_by_field_name("suffix"))
        t = self.type_of(target, env)
        if not t or element(t):
            return
        meta = t.startswith("type:")
        info, generated = self.info(t[5:] if meta else t)
        if not info or not generated:
            return
        if meta:
            self.counts["cases"] += 1
            if name not in info.cases and name not in info.methods and name not in info.fields and name != "self":
                self.err(nav, f"the generated `{info.name}` has no case or static member `{name}`")
        elif info.kind in ("struct", "class", "protocol"):
            self.counts["fields"] += 1
            if name not in info.fields and name not in info.methods:
                self.err(nav, f"the generated `{info.name}` has no field `{name}`")

    def check_case_pattern(self, node):
        ch = node.children
        for i in range(len(ch) - 1):
            if ch[i].type != "user_type":
                continue
            name = text(ch[i])
            j = i + 1
            if j < len(ch) and ch[j].type == ".":
                j += 1
            if j >= len(ch) or ch[j].type != "simple_identifier":
                continue
            info, generated = self.info(name)
            if info and generated and info.kind == "enum":
                self.counts["cases"] += 1
                if text(ch[j]) not in info.cases:
                    self.err(ch[j], f"the generated `{name}` has no case `{text(ch[j])}`")

    def check_conformance(self, node, info):
        for base in info.bases:
            proto = self.b.get(base)
            if proto is None or proto.kind != "protocol" or base in self.h:
                continue
            self.counts["conformances"] += 1
            for name, reqs in proto.methods.items():
                for req in reqs:
                    impls = info.methods.get(name, [])
                    if not any([p.label for p in f.params] == [p.label for p in req.params] for f in impls):
                        have = " or ".join(f"{name}{shape(f)}" for f in impls) or "nothing"
                        self.err(node, f"`{info.name}` adopts the generated `{base}` but implements {have} "
                                       f"for its requirement `{name}{shape(req)}`")


def module_of(path):
    parts = Path(path).parts
    if "Sources" in parts:
        i = parts.index("Sources")
        if i + 1 < len(parts) - 1:
            return parts[i + 1]
    return parts[-2] if len(parts) > 1 else ""


def swift_files(args):
    for a in args:
        p = Path(a)
        if p.is_dir():
            yield from sorted(p.rglob("*.swift"))
        elif p.is_file():
            yield p
        else:
            raise SystemExit(f"swift_symbols: {a}: no such file or directory")


def check_project(project, sources, package):
    """Problems with the XcodeGen spec (and Package.swift) given the Swift."""
    errors = []
    spec = yaml.safe_load(Path(project).read_text())
    apps = {n: t for n, t in (spec.get("targets") or {}).items() if t.get("type") == "application"}
    if not apps:
        return [f"{project}: no application target"]
    everything = "\n".join(sources.values())
    consts = dict(re.findall(r'static\s+let\s+(\w+)\s*=\s*"([^"]*)"', everything))
    for name, target in apps.items():
        where = f"{project}: target {name}"
        info = target.get("info") or {}
        props = info.get("properties") or {}
        if not props:
            errors.append(f"{where}: no info.properties (the Info.plist is generated from them)")
        modes = props.get("UIBackgroundModes") or []
        need = []

        def uses(pattern):
            return re.search(pattern, everything) is not None

        if uses(r"\bimport\s+CoreBluetooth\b"):
            need.append(("NSBluetoothAlwaysUsageDescription", "CoreBluetooth"))
        if uses(r"\bimport\s+Network\b") or uses(r"\bNWBrowser\b"):
            need.append(("NSLocalNetworkUsageDescription", "Network.framework"))
        if uses(r"\bDataScannerViewController\b|\bAVCapture"):
            need.append(("NSCameraUsageDescription", "the camera"))
        if uses(r"\bAVAudioRecorder\b|\brequestRecordPermission\b"):
            need.append(("NSMicrophoneUsageDescription", "the microphone"))
        for key, why in need:
            value = props.get(key)
            if not isinstance(value, str) or not value.strip():
                errors.append(f"{where}: info.properties lacks {key} (the Swift uses {why})")
        services = props.get("NSBonjourServices") or []
        for svc in sorted(set(re.findall(r'"(_[a-z0-9-]+\._(?:tcp|udp))"', everything))):
            if svc not in services:
                errors.append(f"{where}: NSBonjourServices lacks {svc} (the Swift browses or advertises it)")
        mode_uses = [
            ("bluetooth-central", r"CBCentralManagerOptionRestoreIdentifierKey", "central state restoration"),
            ("bluetooth-peripheral", r"CBPeripheralManagerOptionRestoreIdentifierKey", "peripheral state restoration"),
            ("fetch", r"\bBGAppRefreshTaskRequest\b", "BGAppRefreshTask"),
            ("processing", r"\bBGProcessingTaskRequest\b", "BGProcessingTask"),
        ]
        for mode, pattern, why in mode_uses:
            if uses(pattern) and mode not in modes:
                errors.append(f"{where}: UIBackgroundModes lacks {mode} (the Swift uses {why})")
        def named(label):
            """The identifiers the Swift passes as `label:` (literals or static lets), None where unknown."""
            for ref in re.findall(label + r':\s*("[^"]*"|[\w.]+)', everything):
                yield ref, ref.strip('"') if ref.startswith('"') else consts.get(ref.split(".")[-1])

        permitted = props.get("BGTaskSchedulerPermittedIdentifiers") or []
        for ref, ident in named("forTaskWithIdentifier"):
            if ident is None:
                errors.append(f"{where}: cannot tell the BGTask identifier {ref}")
            elif ident not in permitted:
                errors.append(f"{where}: BGTaskSchedulerPermittedIdentifiers lacks {ident} (registered in the Swift)")
        groups = ((target.get("entitlements") or {}).get("properties") or {}).get(
            "com.apple.security.application-groups"
        ) or []
        for ref, ident in named("forSecurityApplicationGroupIdentifier"):
            if ident is None:
                errors.append(f"{where}: cannot tell the App Group {ref}")
            elif ident not in groups:
                errors.append(f"{where}: entitlements lack the App Group {ident} (the Swift opens its container)")
        version = str(((target.get("settings") or {}).get("base") or {}).get("SWIFT_VERSION", ""))
        if version not in SWIFT_VERSIONS:
            errors.append(f"{where}: SWIFT_VERSION {version!r} is not one Xcode 16 accepts ({', '.join(sorted(SWIFT_VERSIONS))})")
        plist = Path(project).parent / (info.get("path") or "Info.plist")
        if not info.get("path"):
            errors.append(f"{where}: info.path missing (where XcodeGen writes the Info.plist)")
    if package:
        first = Path(package).read_text().splitlines()[0]
        m = re.match(r"//\s*swift-tools-version:\s*([\d.]+)", first)
        if not m or m.group(1) not in TOOLS_VERSIONS:
            errors.append(f"{package}: swift-tools-version {m.group(1) if m else '?'} is not one Xcode 16 accepts")
    return errors


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bindings", required=True)
    ap.add_argument("--project")
    ap.add_argument("--package")
    ap.add_argument("paths", nargs="*")
    a = ap.parse_args(argv)
    btree, _ = parse(a.bindings)
    bindings = collect_types(btree, {})
    files = list(swift_files(a.paths))
    parsed = {f: parse(f) for f in files}
    hand = {}
    for f, (tree, _) in parsed.items():
        collect_types(tree, hand)
    reexported = any(
        module_of(f) == "PollenKit" and re.search(rb"@_exported\s+import\s+PollenBindings\b", src)
        for f, (_, src) in parsed.items()
    )
    declared = set()
    for f, (tree, _) in parsed.items():
        collect_declared(tree, declared)
    c = Checker(bindings, hand, collect_free_funcs(btree), declared)
    for f, (tree, src) in parsed.items():
        c.walk_file(f, tree, src, module_of(f), reexported)
    errors = list(c.errors)
    if a.project:
        sources = {f: src.decode("utf-8", "replace") for f, (_, src) in parsed.items()}
        errors += check_project(a.project, sources, a.package)
    for e in errors:
        print(e)
    counts = ", ".join(f"{v} {k}" for k, v in c.counts.items())
    print(f"swift symbols: {len(files)} file(s); checked {counts}; {len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
