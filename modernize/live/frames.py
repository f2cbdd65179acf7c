"""Reading what the collector sends back (see collector.sh for the frame format)."""

from __future__ import annotations

from dataclasses import dataclass, field

from modernize.errors import SourceError

RS = b"\x1e"


@dataclass
class Survey:
    """The first reply: sections of tool output by name, and the file listing."""

    sections: dict[str, bytes] = field(default_factory=dict)
    processes: list[dict[str, bytes]] = field(default_factory=list)  # one process: P (pid), status, C, X, W, G
    listing_format: str = ""
    listing: bytes = b""
    links: bytes = b""  # the `stat` listing's symlink targets
    errors: list[str] = field(default_factory=list)


def _split(data: bytes) -> list[tuple[str, bytes]]:
    out = []
    for piece in data.split(RS)[1:]:
        head, _, body = piece.partition(b"\n")
        out.append((head.decode("utf-8", "surrogateescape"), body))
    return out


def parse_survey(data: bytes, where: str) -> Survey:
    if not data.startswith(RS + b"V "):
        raise SourceError(f"{where}: the collector did not start (is sh missing, or did sudo refuse?)")
    survey = Survey()
    cut = data.find(RS + b"L ")
    head_part, listing = (data, b"") if cut < 0 else (data[:cut], data[cut:])
    section = ""
    for tag, body in _split(head_part):
        kind, _, arg = tag.partition(" ")
        if kind == "S":
            section = arg
            survey.sections[arg] = body
        elif kind == "E":
            survey.errors.append(arg)
        elif section == "processes":
            if kind == "P":
                survey.processes.append({"P": arg.encode(), "status": body})
            elif survey.processes:
                survey.processes[-1][kind] = arg.encode() if kind in "XW" else body
    if listing:
        head, _, rest = listing[1:].partition(b"\n")
        survey.listing_format = head.decode()[2:]
        if survey.listing_format == "stat":
            rest, _, links = rest.partition(RS + b"K\n")
            survey.links = links
        survey.listing = rest
    else:
        errs = "; ".join(survey.errors) or "the file listing is missing (the connection may have dropped)"
        raise SourceError(f"{where}: {errs}")
    return survey
