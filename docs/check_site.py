"""Checks the built documentation site: internal links and anchors, and API coverage.

Usage: ``python docs/check_site.py out/docs`` (``make docs`` runs it after ``mkdocs build``).

- Every ``href``/``src`` of every page that points inside the site must name a file that
  exists, and its ``#fragment`` an ``id`` (or ``<a name>``) on that page. External URLs
  (any scheme, or ``//host``) are not followed: the check works offline on the files.
- Every public name of ``csmetrics.__all__`` and of the ``__all__`` of ``csmetrics.clv``,
  ``csmetrics.expr``, ``csmetrics.plot`` and ``csmetrics.datasets`` has an entry in the API
  reference (an anchor named by its full path). The names are read statically by griffe from
  ``python/``, as the API reference reads them.

Exits with status 1 and lists every problem when there is one.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# Modules whose __all__ the API reference must cover, besides the package itself.
API_MODULES = ("clv", "expr", "plot", "datasets")
# Attributes that mkdocs-material renders on every page and that are not site links.
_LINK_ATTRIBUTES = {"a": "href", "link": "href", "img": "src", "script": "src", "source": "src"}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[int, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if tag == "a" and values.get("name"):
            self.ids.add(values["name"] or "")
        wanted = _LINK_ATTRIBUTES.get(tag)
        if wanted and values.get(wanted) is not None:
            self.links.append((self.getpos()[0], values[wanted] or ""))


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def check_links(site: Path) -> list[str]:
    """Broken internal links and anchors of the HTML pages under ``site``."""
    pages = {path.resolve(): _parse(path) for path in sorted(site.rglob("*.html"))}
    problems = []
    for path, page in pages.items():
        for line, link in page.links:
            parts = urlsplit(link)
            if parts.scheme or link.startswith("//"):
                continue  # external (http, mailto, data, ...): not followed
            where = f"{path.relative_to(site.resolve())}:{line}: {link}"
            if not parts.path:
                target = path
            elif parts.path.startswith("/"):  # site-absolute, as in 404.html
                target = (site / unquote(parts.path[1:])).resolve()
            else:
                target = (path.parent / unquote(parts.path)).resolve()
            if parts.path.endswith("/") or target.is_dir():
                target = target / "index.html"
            if not target.is_relative_to(site.resolve()):
                problems.append(f"{where}: points outside the site")
                continue
            if not target.is_file():
                problems.append(f"{where}: no such file")
                continue
            fragment = unquote(parts.fragment)
            if not fragment or target.suffix != ".html":
                continue
            if target not in pages:
                pages[target] = _parse(target)
            if fragment not in pages[target].ids:
                problems.append(f"{where}: no anchor #{fragment} in {target.name}")
    return problems


def check_api(site: Path, sources: Path) -> list[str]:
    """Public names of the package that have no entry in the API reference."""
    import griffe

    package = griffe.load("csmetrics", search_paths=[str(sources)], resolve_aliases=True)
    anchors: dict[str, set[str]] = defaultdict(set)
    for path in sorted((site / "api").rglob("*.html")):
        for anchor in _parse(path).ids:
            anchors[anchor].add(path.name)
    problems = []
    for module in (package, *(package[name] for name in API_MODULES)):
        for name in module.exports or []:
            name = str(name)
            if name.startswith("__"):
                continue  # __version__
            member = module[name]
            if member.is_module:
                continue  # csmetrics.clv & co. are checked member by member
            paths = {f"{module.path}.{name}", member.path}
            if member.is_alias:
                try:
                    paths.add(member.final_target.path)
                except griffe.AliasResolutionError:
                    pass
            if not any(path in anchors for path in paths):
                problems.append(f"{module.path}.{name}: not in the API reference")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="the built site (mkdocs site_dir)")
    parser.add_argument(
        "--sources", type=Path, default=Path("python"), help="where the package sources are"
    )
    args = parser.parse_args(argv)
    if not (args.site / "index.html").is_file():
        print(f"{args.site}: no built site (index.html missing)", file=sys.stderr)
        return 1
    problems = check_links(args.site) + check_api(args.site, args.sources)
    for problem in problems:
        print(problem, file=sys.stderr)
    pages = sum(1 for _ in args.site.rglob("*.html"))
    if problems:
        print(f"{len(problems)} problem(s) in {pages} pages", file=sys.stderr)
        return 1
    print(f"{pages} pages: internal links, anchors and API coverage are fine")
    return 0


if __name__ == "__main__":
    sys.exit(main())
