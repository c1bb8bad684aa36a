"""A griffe extension for the API reference: the docstring templates the package fills at import.

Some functions share a parameter section: their docstring holds a placeholder such as
``{panel}`` and the module fills it from ``_PANEL_DOC`` when it is imported (doubled braces
then become single ones). griffe reads the sources without importing them, so this extension
applies the same substitution to the static docstrings.
"""

from __future__ import annotations

import ast
import re
import textwrap
from typing import Any

import griffe

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class DocstringTemplates(griffe.Extension):
    """Fills ``{name}`` in a function's docstring from the module's ``_NAME_DOC`` string."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        self._visit(pkg)

    def _visit(self, module: griffe.Module) -> None:
        for member in module.members.values():
            if member.is_alias:
                continue
            if member.is_module:
                self._visit(member)  # type: ignore[arg-type]
            elif member.is_function and member.docstring is not None:
                self._fill(module, member.docstring)

    @staticmethod
    def _fill(module: griffe.Module, docstring: griffe.Docstring) -> None:
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
