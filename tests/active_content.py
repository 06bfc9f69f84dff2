"""Checks that an output holds no active content: shared by test_xss.py, test_fuzz.py and test_hostile.py.

Each check returns a list of findings (empty: clean), so a failing test shows every survivor at once.
HTML is parsed (lxml.html), XHTML strictly as XML (lxml.etree), PDFs with pypdf, messages with ``email``.
"""
from __future__ import annotations

import email
import html
import re
import zipfile
from email import policy
from pathlib import Path

from lxml import etree

XLINK = "{http://www.w3.org/1999/xlink}"
# Elements that run code, load other documents, submit data or change how the page is read.
BANNED = frozenset({
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input", "button", "textarea",
    "select", "isindex", "base", "portal", "template", "bgsound", "xml", "set", "animate", "animatetransform",
    "animatemotion", "handler", "listener", "foreignobject", "param", "keygen", "noscript",
})
URL_ATTRS = frozenset({
    "href", "src", "action", "formaction", "background", "cite", "data", "poster", "srcset", "lowsrc", "dynsrc",
    "codebase", "longdesc", "usemap", "ping", "manifest", "icon", "profile", "to", "from", "values", "by",
    XLINK + "href",
})
SAFE_SCHEMES = ("http:", "https:", "mailto:")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
_STRIP = re.compile(r"[\x00-\x20\x7f-\xa0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]")
_CSS_BAD = re.compile(r"expression\s*\(|javascript:|vbscript:|livescript:|-moz-binding|behavior\s*:|@import|"
                      r"url\s*\(\s*['\"]?\s*(?:[a-z][a-z0-9+.\-]*:|//)", re.I)
_RAW_TAG = re.compile(rb"<\s*(script|iframe|object|embed|applet|form|base|frame|frameset|meta\s+http-equiv\s*="
                      rb"\s*[\"']?refresh)\b", re.I)
_DATA_IMAGE = re.compile(r"^data:image/(png|jpe?g|gif|webp);base64,[a-z0-9+/=\s]*$", re.I)


def bad_url(value: str) -> bool:
    """A URL a browser or reader would run or load as a document (javascript:, vbscript:, data:text…)."""
    v = _STRIP.sub("", html.unescape(value or "")).lower()
    for part in v.split(","):  # srcset: several URLs
        part = part.strip().split(" ")[0]
        m = _SCHEME.match(part)
        if m is None:
            continue  # relative: a fragment, a file in the EPUB, a path on the site
        if part.startswith(SAFE_SCHEMES) or _DATA_IMAGE.match(v):
            continue
        return True
    return False


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def check_tree(root, where: str) -> list[str]:
    """Findings in a parsed (X)HTML tree."""
    found: list[str] = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue  # comments, processing instructions
        name = _local(el.tag)
        here = f"{where}: <{name}>"
        if name in BANNED:
            found.append(f"{here} element")
        if name == "meta" and (el.get("http-equiv") or "").strip().lower() not in ("", "content-type"):
            found.append(f"{here} http-equiv={el.get('http-equiv')!r}")
        if name == "link":
            rel = (el.get("rel") or "").lower()
            href = el.get("href") or ""
            if "import" in rel or ("stylesheet" in rel and (_SCHEME.match(href.strip().lower()) or
                                                             href.strip().startswith("//"))):
                found.append(f"{here} rel={rel!r} href={href!r}")
        if name == "style" and _CSS_BAD.search(el.text or ""):
            found.append(f"{here} css {_CSS_BAD.search(el.text or '').group(0)!r}")
        for attr, value in el.attrib.items():
            aname = attr if attr.startswith("{") else attr.lower()
            local = _local(attr)
            if local.startswith("on"):
                found.append(f"{here} handler {attr}={value[:40]!r}")
            elif local == "srcdoc":
                found.append(f"{here} srcdoc")
            elif local == "style" and _CSS_BAD.search(value):
                found.append(f"{here} style {value[:60]!r}")
            elif (aname in URL_ATTRS or local in URL_ATTRS) and bad_url(value):
                found.append(f"{here} {attr}={value[:60]!r}")
            elif local == "attributename" and value.strip().lower().startswith(("on", "href")):
                found.append(f"{here} attributeName={value!r}")
    return found


def check_html(data: bytes | str, where: str) -> list[str]:
    """An HTML document or fragment, parsed as a browser would (html5lib: the HTML5 algorithm)."""
    import html5lib

    raw = data.encode("utf-8") if isinstance(data, str) else data
    doc = html5lib.parse(raw, treebuilder="etree", namespaceHTMLElements=False, transport_encoding="utf-8")
    return check_tree(doc, where)


def check_xhtml(data: bytes, where: str) -> list[str]:
    """An XHTML document: must parse as XML (no recovery), then no active content."""
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, recover=False))
    found = [f"{where}: raw {m.group(0)[:40]!r}" for m in _RAW_TAG.finditer(data)]
    return found + check_tree(root, where)


SAFE_MEMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*(/[A-Za-z0-9][A-Za-z0-9._\-]*)*$")


def check_epub(path: Path) -> list[str]:
    """Every XHTML document in the EPUB parses and is clean; every member name stays inside the book."""
    found = []
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            name = info.filename
            if not SAFE_MEMBER.match(name) or ".." in name.split("/"):
                found.append(f"{path.name}: unsafe member name {name!r}")
            if name.endswith((".xhtml", ".html", ".htm")):
                found += check_xhtml(z.read(info), f"{path.name}:{name}")
            elif name.endswith((".opf", ".ncx", ".xml")):
                etree.fromstring(z.read(info), etree.XMLParser(resolve_entities=False, no_network=True))
    return found


def pdf_links(path: Path) -> list[tuple[str, object]]:
    """(action type, target) of every link annotation of a PDF."""
    from pypdf import PdfReader

    out = []
    for page in PdfReader(path).pages:
        for ref in page.get("/Annots") or []:
            annot = ref.get_object()
            action = annot.get("/A")
            if action is not None:
                action = action.get_object()
                out.append((str(action.get("/S")), action.get("/URI") or action.get("/D") or action.get("/F")))
            elif annot.get("/Dest") is not None:
                out.append(("/GoTo", annot.get("/Dest")))
    return out


def check_pdf(path: Path) -> list[str]:
    """Links are http(s)/mailto URIs or internal jumps; no JavaScript, launch or form actions anywhere."""
    from pypdf import PdfReader

    found = []
    raw = path.read_bytes()
    for token in (b"/JavaScript", b"/JS ", b"/JS(", b"/JS<", b"/Launch", b"/SubmitForm", b"/ImportData", b"/RichMedia"):
        if token in raw:
            found.append(f"{path.name}: {token.decode()} in the file")
    root = PdfReader(path).trailer["/Root"]
    if "/OpenAction" in root or "/AA" in root:
        found.append(f"{path.name}: document open action")
    for kind, target in pdf_links(path):
        if kind == "/URI":
            uri = str(target)
            if not uri.lower().startswith(SAFE_SCHEMES) or bad_url(uri):
                found.append(f"{path.name}: link to {uri[:60]!r}")
        elif kind not in ("/GoTo",):
            found.append(f"{path.name}: link action {kind}")
    return found


EMAIL_HEADERS = frozenset({
    "subject", "from", "to", "cc", "reply-to", "date", "message-id", "list-id", "list-unsubscribe",
    "list-unsubscribe-post", "content-language", "mime-version", "content-type", "content-transfer-encoding",
    "content-disposition",
})


def check_eml(path: Path) -> list[str]:
    """Only the headers digest writes (nothing injected); every HTML part clean."""
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    found = [f"{path.name}: header {k!r}" for k in msg if k.lower() not in EMAIL_HEADERS]
    for k, v in msg.items():
        if "\n" in str(v) or "\r" in str(v):
            found.append(f"{path.name}: header {k} holds a line break")
    for part in msg.walk():
        if part.get_content_type() == "text/html":
            found += check_html(part.get_content(), f"{path.name}:html part")
    return found


def check_output(path: Path) -> list[str]:
    """Dispatch on the file's suffix."""
    name = path.name
    if name.endswith(".epub"):
        return check_epub(path)
    if name.endswith(".pdf"):
        return check_pdf(path)
    if name.endswith(".eml"):
        return check_eml(path)
    if name.endswith((".html", ".htm", ".xhtml")):
        return check_html(path.read_bytes(), name)
    return []
