"""``digest send``: build one issue's email edition (and the editions it attaches) and deliver it."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from digest import editions as registry
from digest.build.issue import make_digest, write_issue
from digest.config.settings import Settings
from digest.delivery.sent import RECORD_NAME, Event, Outgoing, Report
from digest.delivery.smtp import deliver
from digest.editions.base import WriteContext
from digest.editions.email.mime import RenderedEmail, bare_address, check_address, compose
from digest.editions.email.options import EmailOptions
from digest.editions.email.render import render, write_edition
from digest.errors import ConfigError, DeliveryError, NothingToBuild
from digest.runtime.env import Environment
from digest.theming.loader import load_theme

KINDLE_MAX_BYTES = 50_000_000  # Send to Kindle refuses e-mails over 50 MB
KINDLE_EDITION = "epub"  # what Send to Kindle reads


def plan(edition: RenderedEmail, settings: Settings, *, to: Iterable[str], kindle: Iterable[str] = (),
         attachments: Iterable[Path] = (), kindle_files: Iterable[Path] = ()) -> list[Outgoing]:
    """One message per recipient (no one sees another subscriber's address)."""
    sender = settings.options(EmailOptions).from_addr
    if not sender:
        raise ConfigError("email.from_addr is not set: the sender address is needed to send")
    check_address(sender, "email.from_addr")
    slug = edition.digest.slug
    attachments, kindle_files = list(attachments), list(kindle_files)
    out: list[Outgoing] = []
    for addr in dict.fromkeys(to):
        msg = compose(edition, settings, to=[check_address(addr, "email.to")], attachments=attachments)
        out.append(Outgoing(slug, "email", bare_address(addr), msg))
    kindle = list(dict.fromkeys(kindle))
    if kindle:
        if not kindle_files:
            raise ConfigError("Send to Kindle needs the EPUB edition, and it produced no file")
        for f in kindle_files:
            size = f.stat().st_size
            if size > KINDLE_MAX_BYTES:
                raise DeliveryError(f"{f.name} is {size / 1e6:.1f} MB; Send to Kindle accepts at most "
                                    f"{KINDLE_MAX_BYTES / 1e6:.0f} MB (lower epub.image_max_width or image_quality)", f)
        for addr in kindle:
            msg = compose(edition, settings, to=[check_address(addr, "email.kindle")], kind="kindle",
                          attachments=kindle_files)
            out.append(Outgoing(slug, "kindle", bare_address(addr), msg))
    return out


@dataclass
class SendResult:
    slug: str
    files: list[Path]
    report: Report
    planned: list[Outgoing]


def send_issue(settings: Settings, start: date, end: date, out_dir: Path, *, period: str = "day",
               to: list[str] | None = None, kindle: list[str] | None = None, attach: list[str] | None = None,
               force: bool = False, dry_run: bool = False, env: Environment | None = None,
               on_event: Event | None = None, sleep: Callable[[float], None] = time.sleep) -> SendResult:
    """Build the email edition of one issue (plus attachments) and send it.

    ``to`` / ``kindle`` given (even empty) replace the configured recipient lists.
    """
    env = env or Environment.from_os()
    options = settings.options(EmailOptions)
    if to is None and kindle is None:
        to, kindle = list(options.to), list(options.kindle)
    to, kindle = list(to or []), list(kindle or [])
    if not to and not kindle:
        raise ConfigError("no recipients: set email.to or email.kindle in digest.toml, or give --to / --kindle")
    attach = _attachable(options.attach if attach is None else attach)
    digest = make_digest(settings, start, end, period=period, env=env)
    if digest.count == 0:
        raise NothingToBuild(f"no posts for {digest.date_label} (time zone {settings.timezone})", settings.site_root)
    ctx = WriteContext(out_dir, load_theme(settings, cache_dir=env.cache_dir), settings, env)
    edition = render(digest, theme=ctx.theme, settings=settings)
    files = write_edition(edition, out_dir, settings)
    built: dict[str, list[Path]] = {}
    for name in attach + ([KINDLE_EDITION] if kindle else []):
        if name not in built:
            built[name] = write_issue(digest, [name], out_dir, settings=settings, theme=ctx.theme, env=env)
            files.extend(built[name])
    attachments = [f for name in attach for f in built[name]] if to else []
    planned = plan(edition, settings, to=to, kindle=kindle, attachments=attachments,
                   kindle_files=built.get(KINDLE_EDITION, []))
    if dry_run:
        return SendResult(digest.slug, files, Report(), planned)
    report = deliver(planned, settings, out_dir / RECORD_NAME, password=env.smtp_password, force=force,
                     on_event=on_event, sleep=sleep)
    return SendResult(digest.slug, files, report, planned)


def _attachable(names: Iterable[str]) -> list[str]:
    """Editions a message can carry as attachments: a reader's file (not the message itself)."""
    out = []
    for name in dict.fromkeys(names):
        edition = registry.get(name)
        if not edition.for_readers or edition.primary.mime.startswith("text/"):
            readable = [e.name for e in registry.all_editions()
                        if e.for_readers and not e.primary.mime.startswith("text/")]
            raise ConfigError(f"cannot attach {name!r}: attach {' or '.join(readable)}")
        out.append(edition.name)
    return out


@dataclass(frozen=True)
class SiteSend:
    """A send as the command line asks for it."""

    site: Path
    config: Path | None
    theme: str | None
    day: date | None  # the issue that holds this day (default: yesterday's)
    period: str
    out: Path | None
    to: list[str] | None  # given (even empty): replaces email.to and email.kindle
    kindle: list[str] | None
    attach: list[str] | None  # None: email.attach
    force: bool
    dry_run: bool
    env: Environment


def send_site(request: SiteSend, *, on_event: Event | None = None) -> SendResult:
    from digest.build.dates import periods, yesterday
    from digest.config.load import output_folder
    from digest.editions import load_settings

    if request.period not in ("day", "week", "month"):
        raise ConfigError(f"--period must be day, week or month, not {request.period!r}")
    settings = load_settings(request.site, request.config, {"theme": request.theme} if request.theme else None)
    day = request.day or yesterday(settings)
    start, end = periods(day, day, request.period)[0]
    return send_issue(settings, start, end, output_folder(request.site, settings, request.out), period=request.period,
                      to=request.to, kindle=request.kindle, attach=request.attach, force=request.force,
                      dry_run=request.dry_run, env=request.env, on_event=on_event)
