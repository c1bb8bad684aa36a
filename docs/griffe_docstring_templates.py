"""A griffe extension for the API reference: docstrings as the package shows them at run time.

griffe reads the sources without importing them, so three things are done here:

- Docstring templates. Some functions share a parameter section: their docstring holds a
  placeholder such as ``{panel}`` that the module fills from ``_PANEL_DOC`` when it is imported
  (doubled braces then become single ones). The same substitution is applied to the static
  docstrings.
- Sphinx roles (``:func:`nps```, ``:class:`~csmetrics.InvalidInputError```, ``:meth:`fit```)
  become cross-references to the documented object, or code when the object has no page.
- Citations of the definitions (``docs/metrics/survey.md#nps``) become links to those pages.
- Parameters documented together (``customer_id, start, end``) each get their own type and
  default from the signature (griffe gives every name of the group those of the first).
"""

from __future__ import annotations

import ast
import re
import textwrap
from typing import Any

import griffe

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# A citation of a definitions page, docs/metrics/revenue.md#bridge, read from an API page.
_CITATION = re.compile(r"(?<![\w/\[(])docs/metrics/([\w-]+)\.md(#[\w-]+)?")
_ROLE = re.compile(r":(?:py:)?(func|class|meth|attr|mod|exc|data|obj):`(~?)([\w.]+)(?:\(\))?`")


class DocstringTemplates(griffe.Extension):
    """Fills docstring templates, turns Sphinx roles into links and fixes grouped parameters."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        self._visit(pkg, pkg)

    def _visit(self, package: griffe.Module, obj: griffe.Object) -> None:
        for member in list(obj.members.values()):
            if member.is_alias:
                continue
            if member.docstring is not None:
                if member.is_function:
                    _fill_templates(member.module, member.docstring)
                member.docstring.value = _ROLE.sub(
                    lambda match, m=member: _reference(package, m, match), member.docstring.value
                )
                member.docstring.value = _CITATION.sub(_citation, member.docstring.value)
                _fix_grouped_parameters(member)
            if member.is_module or member.is_class:
                self._visit(package, member)


def _fill_templates(module: griffe.Module, docstring: griffe.Docstring) -> None:
    templates = {}
    for name in set(_PLACEHOLDER.findall(docstring.value)):
        attribute = module.members.get(f"_{name.upper()}_DOC")
        if attribute is None or attribute.is_alias or attribute.value is None:
            continue
        templates[name] = textwrap.dedent(ast.literal_eval(str(attribute.value)))
    if not templates:
        return
    text = docstring.value
    for name, template in templates.items():
        text = text.replace("{" + name + "}", template.strip("\n"))
    docstring.value = text.replace("{{", "{").replace("}}", "}")


def _citation(match: re.Match[str]) -> str:
    page, anchor = match.group(1), match.group(2) or ""
    return f"[{match.group(0)}](../metrics/{page}.md{anchor})"


def _reference(package: griffe.Module, obj: griffe.Object, match: re.Match[str]) -> str:
    role, short, name = match.group(1), match.group(2), match.group(3)
    text = name.rsplit(".", 1)[-1] if short else name
    target = _lookup(package, obj, name, module_wanted=role == "mod")
    if target is None:
        return f"`{text}`"
    return f"[`{text}`][{target}]"


def _lookup(
    package: griffe.Module, obj: griffe.Object, name: str, *, module_wanted: bool
) -> str | None:
    """The documented path of ``name`` as seen from ``obj``, or None when it has no page."""
    scopes: list[griffe.Object] = []
    scope: griffe.Object | None = obj
    while scope is not None:
        scopes.append(scope)
        scope = scope.parent
    head, *rest = name.split(".")
    if head == package.name:
        scopes, head, rest = [package], rest[0] if rest else head, rest[1:]
    for scope in scopes:
        members = scope.all_members if scope.is_class else scope.members
        found: Any = members.get(head)
        try:
            for part in rest:
                found = found.final_target if found.is_alias else found
                found = (found.all_members if found.is_class else found.members)[part]
            if found is None:
                continue
            found = found.final_target if found.is_alias else found
            if found.is_module and not module_wanted and found.name in found.members:
                # csmetrics.scorecard names the function as well as its module
                found = found.members[found.name]
                found = found.final_target if found.is_alias else found
        except (AttributeError, KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
            continue
        path = found.path
        if scope.is_class and found.parent is not scope and found.parent.is_class:
            path = f"{scope.path}.{found.name}"  # an inherited member, documented on the class
        if any(part.startswith("_") for part in path.split(".")) or not _exported(found):
            return None
        return path
    return None


def _exported(obj: griffe.Object) -> bool:
    """Whether the module-level object holding ``obj`` is in its module's ``__all__``."""
    while obj.parent is not None and not obj.parent.is_module:
        obj = obj.parent
    module = obj.parent
    return module is None or module.exports is None or obj.name in {str(n) for n in module.exports}


def _fix_grouped_parameters(obj: griffe.Object) -> None:
    # Functions only: a class's parameters (dataclass fields) are known after other extensions.
    if not obj.is_function or obj.docstring is None or obj.docstring.parser is None:
        return
    signature = obj.parameters
    for section in obj.docstring.parsed:
        if section.kind is not griffe.DocstringSectionKind.parameters:
            continue
        for parameter in section.value:
            if parameter.name in signature:
                declared = signature[parameter.name]
                parameter.annotation = declared.annotation
                parameter.value = declared.default
