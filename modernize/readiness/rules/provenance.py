"""Software provenance: packages installed by hand, app dependencies from outside the
registries, native code carried with the app, and app dependencies past their end of life."""

from __future__ import annotations

from collections.abc import Iterator

from modernize.model import Library, cite
from modernize.readiness.rule import Context, Hit, Rule
from modernize.readiness.rules.software import eol_dates, support

# (ecosystem, library name) -> endoflife.date product (see scripts/refresh_eol.py)
LIBRARY_PRODUCTS = {
    ("pypi", "django"): "django", ("pypi", "numpy"): "numpy", ("pypi", "wagtail"): "wagtail",
    ("npm", "express"): "express", ("npm", "@angular/core"): "angular", ("npm", "angular"): "angularjs",
    ("npm", "jquery"): "jquery", ("npm", "react"): "react", ("npm", "vue"): "vue", ("npm", "next"): "nextjs",
    ("npm", "nuxt"): "nuxt", ("npm", "electron"): "electron", ("npm", "bootstrap"): "bootstrap",
    ("npm", "ember-source"): "emberjs", ("gem", "rails"): "rails", ("gem", "railties"): "rails",
}  # fmt: skip
_HOW = {"vcs": "a version-control repository", "url": "an archive at a URL", "directory": "a local directory"}


def _by_hand(ctx: Context) -> Iterator[Hit]:
    for p in ctx.inventory.packages:
        if p.origin == "local":
            why = next((e.detail for e in reversed(p.evidence) if e.detail), None)
            yield Hit(None, f"{p.name} {p.version.raw} is installed from no configured package source"
                      + (f" ({why})" if why else ""), cite(p.evidence)[:2])  # fmt: skip


def _direct(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        for lib in s.libraries:
            if lib.source in _HOW:
                where = f": {lib.url}" if lib.url else ""
                how = "a local archive file" if (lib.url or "").startswith("file:") else _HOW[lib.source]
                yield Hit(s.id, f"{lib.ecosystem} {lib.name} {lib.version} comes from {how}{where}",
                          cite(lib.evidence)[-1:])  # fmt: skip


def _vendored(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        vb = s.vendored_binaries
        if vb is None or not (vb.count or vb.addons):
            continue
        parts = []
        if vb.count:
            parts.append(f"{vb.count}{'+' if vb.bounded else ''} ELF executable(s) or shared object(s) among its files")
        if vb.addons:
            parts.append(f"{vb.addons} prebuilt native addon(s) in node_modules")
        yield Hit(s.id, " and ".join(parts) + f", e.g. {', '.join(vb.examples[:3])}", cite(vb.evidence)[:3])


def _cycle(lib: Library, product: str) -> str | None:
    cycles = eol_dates().get(product, {})
    parts = lib.version.split(".")
    for n in (2, 1):
        if len(parts) >= n and ".".join(parts[:n]) in cycles:
            return ".".join(parts[:n])
    return None


def _eol_libraries(ctx: Context) -> Iterator[Hit]:
    for s in ctx.services():
        for lib in s.libraries:
            product = LIBRARY_PRODUCTS.get((lib.ecosystem, lib.name.lower()))
            cycle = _cycle(lib, product) if product else None
            state = support(product, cycle, ctx)
            if state is None:
                continue
            when = "" if state[1] in ("", "ended") else f" on {state[1]}"
            what = "its support ended" if state[0] == "ended" else f"only extended support is left, until {state[1]}"
            if state[0] == "ended":
                what += when
            yield Hit(s.id, f"{lib.ecosystem} {lib.name} {lib.version}: the {cycle} series is end-of-life, {what}",
                      cite(lib.evidence)[-1:])  # fmt: skip


RULES = [
    Rule(
        "SW007", "Packages installed by hand", "software", "minor", 2,
        "the .deb files or their build recipe can still be found, or the software has a packaged or official "
        "alternative",
        "Find where each package came from (the vendor's download page, a local build) and give the image build "
        "the same .deb from a place it can reach (an internal repository, the build context), pinned and "
        "checked; better, use the distribution's package or the vendor's official image.",
        _by_hand,
        ("https://manpages.debian.org/bookworm/apt/apt.8.en.html",
         "https://manpages.debian.org/bookworm/dpkg/dpkg.1.en.html"),
    ),
    Rule(
        "SW008", "App dependencies from version control, URLs or local directories", "software", "minor", 2,
        "the repositories and URLs are reachable from the image build with read-only credentials, or the code "
        "can be published to a registry",
        "Make the image build reach each one: pin a VCS dependency to its commit (`name @ git+https://...@SHA`, "
        "npm `git+https://...#SHA`, bundler `revision:`), give the build a read-only deploy token as a build "
        "secret, never in the URL; copy a local directory or archive into the build context; or publish the "
        "package to an internal registry.",
        _direct,
        ("https://packaging.python.org/en/latest/specifications/direct-url/",
         "https://docs.npmjs.com/cli/v10/configuring-npm/package-json#git-urls-as-dependencies",
         "https://bundler.io/guides/git.html",
         "https://docs.docker.com/build/building/secrets/"),
    ),
    Rule(
        "SW009", "Native binaries carried with the app code", "software", "minor", 3,
        "the binaries' sources or vendor downloads exist for the image's CPU and C library",
        "Build or download each binary in the image build for its platform (a multi-stage build), or install it "
        "from a package; rebuild native addons with `npm ci` in the image, not by copying node_modules.",
        _vendored,
        ("https://docs.docker.com/build/building/multi-stage/",
         "https://docs.docker.com/build/building/multi-platform/",
         "https://nodejs.org/api/addons.html"),
    ),
    Rule(
        "SW010", "End-of-life app framework or library", "software", "major", 16,
        "an upgrade to a supported series is code work with tests, done before or with the move",
        "Upgrade the library to a supported series (its upgrade guide lists the breaking changes), run the app's "
        "tests, then pin the new version in the image's lock file or requirements.",
        _eol_libraries,
        ("https://endoflife.date/", "https://docs.djangoproject.com/en/stable/howto/upgrade-version/",
         "https://guides.rubyonrails.org/upgrading_ruby_on_rails.html"),
    ),
]  # fmt: skip
