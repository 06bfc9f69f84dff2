"""Checks that an output holds no active content: shared by test_xss.py, test_fuzz.py, test_hostile.py and
test_attack_corpus.py.

Each check returns a list of findings (empty: clean), so a failing test shows every survivor at once.
HTML is parsed (html5lib: the HTML5 algorithm), XHTML and feeds strictly as XML (lxml.etree), PDFs object by
object (pikepdf) and through their link annotations (pypdf), messages with ``email``.
"""
from __future__ import annotations

import email
import html
import re
import zipfile
from email import policy
from pathlib import Path
from typing import Any

from lxml import etree

XLINK = "{http://www.w3.org/1999/xlink}"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
# Elements that run code, load other documents, submit data or change how the page is read.
BANNED = frozenset({
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "form", "input", "button", "textarea",
    "select", "isindex", "base", "portal", "template", "bgsound", "xml", "set", "animate", "animatetransform",
    "animatemotion", "handler", "listener", "foreignobject", "param", "keygen", "noscript",
})
URL_ATTRS = frozenset({
    "href", "src", "action", "formaction", "background", "cite", "data", "poster", "srcset", "lowsrc", "dynsrc",
    "codebase", "longdesc", "usemap", "ping", "manifest", "icon", "profile", "to", "from", "values", "by",
    XLINK + "href", XML_BASE,
})
SAFE_SCHEMES = ("http:", "https:", "mailto:")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
_STRIP = re.compile(r"[\x00-\x20\x7f-\xa0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]")
_CSS_BAD = re.compile(r"expression\s*\(|javascript:|vbscript:|livescript:|-moz-binding|behavior\s*:|@import|"
                      r"url\s*\(\s*['\"]?\s*(?:[a-z][a-z0-9+.\-]*:|//|\\\\)|image-set\s*\(\s*['\"]?\s*(?:[a-z][a-z0-9+.\-]*:|//)|"
                      r"@font-face[^}]*src\s*:", re.IGNORECASE)
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.DOTALL)
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})[ \t\r\n\f]?|\\(.)", re.DOTALL)
_RAW_TAG = re.compile(rb"<\s*(script|iframe|object|embed|applet|form|base|frame|frameset|meta\s+http-equiv\s*="
                      rb"\s*[\"']?refresh)\b", re.IGNORECASE)
_DATA_IMAGE = re.compile(r"^data:image/(png|jpe?g|gif|webp);base64,[a-z0-9+/=\s]*$", re.IGNORECASE)


def bad_url(value: str, attr: str = "srcset") -> bool:
    """A URL a browser or reader would run or load as a document (javascript:, vbscript:, data:text…).

    ``srcset`` holds several URLs separated by commas (each maybe followed by a size), ``values`` several
    separated by semicolons; any other attribute holds one URL, commas included (``attr`` says which; the
    default reads a value as a ``srcset``, the strictest reading for a bare URL)."""
    v = _STRIP.sub("", html.unescape(value or "")).lower()
    parts = v.split(",") if attr == "srcset" else v.split(";") if attr == "values" else [v]
    for part in parts:
        part = part.strip().split(" ")[0] if attr == "srcset" else part.strip()
        m = _SCHEME.match(part)
        if m is None:
            continue  # relative: a fragment, a file in the EPUB, a path on the site
        if part.startswith(SAFE_SCHEMES) or _DATA_IMAGE.match(v):
            continue
        return True
    return False


def css_bad(text: str) -> str | None:
    """What in a style sheet or style attribute loads or runs something, after comments and escapes go."""
    def unescape(m: re.Match[str]) -> str:
        if m.group(1):
            code = int(m.group(1), 16)
            return chr(code) if 0 < code < 0x110000 and not 0xD800 <= code < 0xE000 else "\ufffd"
        return m.group(2)

    plain = _CSS_ESCAPE.sub(unescape, _CSS_COMMENT.sub("", text or ""))
    m = _CSS_BAD.search(plain)
    return m.group(0) if m else None


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def check_element(el: Any, where: str) -> list[str]:
    """Findings on one element: its name, its attributes, and for ``<style>`` its style sheet."""
    if not isinstance(el.tag, str):
        return []  # comments, processing instructions
    name = _local(el.tag)
    here = f"{where}: <{name}>"
    found: list[str] = []
    if name in BANNED:
        found.append(f"{here} element")
    if name == "meta" and (el.get("http-equiv") or "").strip().lower() not in ("", "content-type"):
        found.append(f"{here} http-equiv={el.get('http-equiv')!r}")
    if name == "link":
        rel = (el.get("rel") or "").lower()
        href = el.get("href") or ""
        if "import" in rel or "attachment" in rel or ("stylesheet" in rel and (
                _SCHEME.match(href.strip().lower()) or href.strip().startswith("//"))):
            found.append(f"{here} rel={rel!r} href={href[:60]!r}")
    if name == "a" and "attachment" in (el.get("rel") or "").lower():
        found.append(f"{here} rel='attachment' href={(el.get('href') or '')[:60]!r}")
    if name == "style" and css_bad("".join(el.itertext())):
        found.append(f"{here} css {css_bad(''.join(el.itertext()))!r}")
    for attr, value in el.attrib.items():
        aname = attr if attr.startswith("{") else attr.lower()
        local = _local(attr)
        if local.startswith("on"):
            found.append(f"{here} handler {attr}={value[:40]!r}")
        elif local == "srcdoc":
            found.append(f"{here} srcdoc")
        elif local == "style" and css_bad(value):
            found.append(f"{here} style {value[:60]!r}")
        elif (aname in URL_ATTRS or local in URL_ATTRS) and bad_url(value, local):
            found.append(f"{here} {attr}={value[:60]!r}")
        elif local == "attributename" and value.strip().lower().startswith(("on", "href")):
            found.append(f"{here} attributeName={value!r}")
    return found


def check_tree(root: Any, where: str) -> list[str]:
    """Findings in a parsed (X)HTML, SVG or feed tree."""
    found: list[str] = []
    for el in root.iter():
        found += check_element(el, where)
    return found


def parse_html(data: bytes | str) -> Any:
    """An HTML document or fragment, parsed as a browser would (html5lib: the HTML5 algorithm)."""
    import html5lib

    raw = data.encode("utf-8") if isinstance(data, str) else data
    return html5lib.parse(raw, treebuilder="etree", namespaceHTMLElements=False, transport_encoding="utf-8")


def check_html(data: bytes | str, where: str) -> list[str]:
    return check_tree(parse_html(data), where)


XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, recover=False, load_dtd=False)


def check_xhtml(data: bytes, where: str) -> list[str]:
    """An XHTML document: must parse as XML (no recovery), then no active content."""
    root = etree.fromstring(data, XML_PARSER)
    found = [f"{where}: raw {m.group(0)[:40]!r}" for m in _RAW_TAG.finditer(data)]
    return found + check_tree(root, where)


SAFE_MEMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*(/[A-Za-z0-9][A-Za-z0-9._\-]*)*$")
OPF_NS = "{http://www.idpf.org/2007/opf}"


def check_opf(data: bytes, where: str) -> list[str]:
    """The package document: no scripted or remote resources, every manifest item inside the book."""
    root = etree.fromstring(data, XML_PARSER)
    found = check_tree(root, where)
    for item in root.iter(OPF_NS + "item"):
        props = (item.get("properties") or "").split()
        href = item.get("href") or ""
        kind = item.get("media-type") or ""
        if "scripted" in props or "remote-resources" in props:
            found.append(f"{where}: item {href!r} properties={props}")
        if "javascript" in kind or "ecmascript" in kind:
            found.append(f"{where}: item {href!r} media-type={kind!r}")
        if _SCHEME.match(href.lower()) or href.startswith("/") or ".." in href.split("/"):
            found.append(f"{where}: item href={href[:60]!r} leaves the book")
    return found


def check_epub(path: Path) -> list[str]:
    """Every XHTML and SVG document parses and is clean; package and NCX clean; members stay inside the book."""
    found = []
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            name = info.filename
            where = f"{path.name}:{name}"
            if not SAFE_MEMBER.match(name) or ".." in name.split("/"):
                found.append(f"{path.name}: unsafe member name {name!r}")
            if name.endswith((".xhtml", ".html", ".htm")):
                found += check_xhtml(z.read(info), where)
            elif name.endswith(".svg"):
                found += check_tree(etree.fromstring(z.read(info), XML_PARSER), where)
            elif name.endswith(".opf"):
                found += check_opf(z.read(info), where)
            elif name.endswith((".ncx", ".xml")):
                found += check_tree(etree.fromstring(z.read(info), XML_PARSER), where)
            elif name.endswith((".js", ".mjs")):
                found.append(f"{where}: a script file")
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


# Actions that leave the document, run code or touch files; /URI and /GoTo are judged by their target.
PDF_BAD_ACTIONS = frozenset({"/Launch", "/JavaScript", "/SubmitForm", "/ImportData", "/ResetForm", "/GoToR",
                             "/GoToE", "/RichMediaExecute", "/Rendition", "/Movie", "/Sound", "/Hide", "/Named"})


def pdf_objects(path: Path) -> list[str]:
    """Every object of the PDF: attachments, file specifications, actions and their URIs (pikepdf)."""
    import pikepdf

    found: list[str] = []
    with pikepdf.open(path) as pdf:
        names = pdf.Root.get("/Names")
        if names is not None and "/EmbeddedFiles" in names:
            found.append(f"{path.name}: embedded files (attachments) in the name tree")
        for obj in pdf.objects:
            if not isinstance(obj, pikepdf.Dictionary):
                continue
            kind = str(obj.get("/Type", ""))
            sub = str(obj.get("/Subtype", ""))
            if kind == "/EmbeddedFile" or kind == "/Filespec" or "/EF" in obj:
                label = str(obj.get("/UF", obj.get("/F", "")))[:60]
                found.append(f"{path.name}: attached file {label!r}")
            if sub in ("/FileAttachment", "/Movie", "/Sound", "/Screen", "/RichMedia", "/3D"):
                found.append(f"{path.name}: annotation {sub}")
            action = str(obj.get("/S", ""))
            if action in PDF_BAD_ACTIONS:
                found.append(f"{path.name}: action {action}")
            if action == "/URI" or "/URI" in obj:
                uri = str(obj.get("/URI", ""))
                if not uri.lower().startswith(SAFE_SCHEMES) or bad_url(uri, "href"):
                    found.append(f"{path.name}: URI {uri[:60]!r}")
            if "/AA" in obj:
                found.append(f"{path.name}: additional actions (/AA)")
        if "/AcroForm" in pdf.Root:
            found.append(f"{path.name}: interactive form (/AcroForm)")
    return found


def check_pdf(path: Path) -> list[str]:
    """Links are http(s)/mailto URIs or internal jumps; no JavaScript, launch, form or file actions, no
    attachments, anywhere in the file."""
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
            if not uri.lower().startswith(SAFE_SCHEMES) or bad_url(uri, "href"):
                found.append(f"{path.name}: link to {uri[:60]!r}")
        elif kind not in ("/GoTo",):
            found.append(f"{path.name}: link action {kind}")
    for finding in pdf_objects(path):
        if finding not in found:
            found.append(finding)
    return found


EMAIL_HEADERS = frozenset({
    "subject", "from", "to", "cc", "reply-to", "date", "message-id", "list-id", "list-unsubscribe",
    "list-unsubscribe-post", "content-language", "mime-version", "content-type", "content-transfer-encoding",
    "content-disposition",
})
ADDRESS_HEADERS = ("from", "to", "cc", "reply-to")
_ADDR_SPEC = re.compile(r"^[^\s@<>()\[\]\\,;:\"]+@[^\s@<>()\[\]\\,;:\"]+$")


def check_headers(msg: email.message.Message, where: str) -> list[str]:
    """Header names digest writes, one line each, addresses that are one mailbox, unsubscribe URLs that are web
    or mail links."""
    found = [f"{where}: header {k!r}" for k in msg if k.lower() not in EMAIL_HEADERS]
    for k, v in msg.items():
        text = str(v)
        if "\n" in text or "\r" in text:
            found.append(f"{where}: header {k} holds a line break")
        defects = getattr(v, "defects", ())
        if defects:
            found.append(f"{where}: header {k} malformed ({type(defects[0]).__name__})")
        if k.lower() in ADDRESS_HEADERS:
            addresses = getattr(v, "addresses", ())
            if k.lower() in ("from", "reply-to") and len(addresses) != 1:
                found.append(f"{where}: header {k} names {len(addresses)} mailboxes: {text[:60]!r}")
            for a in addresses:
                if not _ADDR_SPEC.match(a.addr_spec or ""):
                    found.append(f"{where}: header {k} address {a.addr_spec[:60]!r}")
        if k.lower() == "list-unsubscribe":
            for uri in re.findall(r"<([^>]*)>", text) or [text]:
                if not uri.lower().startswith(("https:", "mailto:")) or bad_url(uri, "href"):
                    found.append(f"{where}: List-Unsubscribe {uri[:60]!r}")
    if msg.get("From") is None:
        found.append(f"{where}: no From header")
    return found


def check_eml(path: Path) -> list[str]:
    """Only the headers digest writes (nothing injected, well-formed); every HTML part clean."""
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    found = check_headers(msg, path.name)
    for part in msg.walk():
        if part.get_content_type() == "text/html":
            found += check_html(part.get_content(), f"{path.name}:html part")
    return found


ATOM = "{http://www.w3.org/2005/Atom}"


def parse_feed(path: Path) -> tuple[Any, list[str]]:
    """An Atom feed or OPDS catalog as strict XML without a DTD: (root, []) or (None, [what is wrong])."""
    data = path.read_bytes()
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return None, [f"{path.name}: DTD or entity declaration"]
    try:
        return etree.fromstring(data, XML_PARSER), []
    except etree.XMLSyntaxError as e:
        return None, [f"{path.name}: not well-formed XML ({e})"]


def feed_content(root: Any, name: str) -> list[str]:
    """Findings in the escaped HTML a feed carries (``type="html"`` titles, summaries and content)."""
    found: list[str] = []
    for el in root.iter(ATOM + "content", ATOM + "summary", ATOM + "title", ATOM + "subtitle", ATOM + "rights"):
        if el.get("type") == "html" and el.text:
            found += check_html(el.text, f"{name}:<{_local(el.tag)}> html")
    return found


def check_feed(path: Path) -> list[str]:
    """A feed or catalog: well-formed, clean links and xml:base, clean HTML content."""
    root, found = parse_feed(path)
    if root is None:
        return found
    return check_tree(root, path.name) + feed_content(root, path.name)


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
    if name.endswith((".atom", ".xml")):
        return check_feed(path)
    return []
