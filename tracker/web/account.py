"""Self-service: sign in by an emailed link, follow and unfollow, preferences.

* ``GET/POST /sign-in``: ask for a link (:mod:`tracker.web.signin`: signed, one-time,
  expiring, rate limited); ``GET /sign-in/<token>`` shows a "Sign in" button and its
  ``POST`` uses the link and signs in (then goes to the ``next`` the link carries);
  ``POST /sign-out``.
* ``GET /manage/<token>``: every digest's "Manage your subscriptions" link (a signed
  :mod:`tracker.tokens` manage token); it signs the browser in as that subscriber, for this
  page only: staff pages still need an emailed sign-in link.
* ``GET /account``: what the visitor follows (bills, topics, jurisdictions), with forms to
  follow a topic (optionally within some jurisdictions) or a jurisdiction and to stop
  following, and the digest preferences: frequency, language, time zone, hour, weekday.
* ``POST /follow`` (``target=kind:value``, ``within``, ``next``) and ``POST /unfollow``
  (``subscription``): the Follow buttons of the bill and topic pages post here too. A visitor
  who is not signed in is sent to sign in first and comes back.

Subscribers made here have origin ``web``; values are validated by the same functions as the
CLI's (:mod:`tracker.subscriptions`), and a value that cannot be used is a 400 page naming it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, abort, redirect, request, session, url_for
from werkzeug.wrappers.response import Response

from notifiers.context import bill_label, site_name
from notifiers.transport import DeliveryError
from tracker.digest import Frequency, Language, TargetKind
from tracker.errors import InvalidSubscription
from tracker.models import BillKey
from tracker.storage import subscriptions_repo as store
from tracker.storage import web_repo
from tracker.storage.subscriptions_repo import SubscriberView, SubscriptionView
from tracker.subscriptions import (
    WEEKDAYS,
    SubscriberProfile,
    SubscriptionSpec,
    catalog_from,
    check_spec,
    parse_email,
    parse_frequency,
    parse_hour,
    parse_jurisdiction,
    parse_language,
    parse_target,
    parse_timezone,
)
from tracker.tokens import InvalidToken, Purpose, Scope, verify
from tracker.web import signin
from tracker.web.common import (
    bill_url,
    catalog,
    current_visitor,
    here,
    notice,
    render,
    topic_url,
)
from tracker.web.common import words as page_words
from tracker.web.present import Option, Words, options
from tracker.web.security import client_fingerprint, rotate_csrf, safe_next
from tracker.web.state import AUTH_LINK, AUTH_MANAGE, sign_in, sign_out, web_state

bp = Blueprint("account", __name__)
log = logging.getLogger(__name__)
ORIGIN = "web"
F = TypeVar("F", bound=Callable[..., Any])

#: Offered in the preferences form (any IANA name already stored is offered too).
TIMEZONES = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
    "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu", "Asia/Seoul", "UTC",
)


def _signed_in_email() -> str | None:
    return current_visitor().email


def signed_in_required(view: F) -> F:
    """Send a visitor who is not signed in to the sign-in page, coming back afterwards."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _signed_in_email() is None:
            back = request.form.get("next") if request.method == "POST" else None
            target = safe_next(back) if request.method == "POST" else here()
            return redirect(url_for("account.sign_in", next=target), code=303)
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


# --- sign-in ------------------------------------------------------------------------------------


@bp.get("/sign-in", endpoint="sign_in")
def sign_in_form() -> tuple[str, int]:
    return render("sign_in.html.j2", next=safe_next(request.args.get("next")), error="",
                  email="")


@bp.post("/sign-in")
def request_link() -> tuple[str, int] | Response:
    state, words = web_state(), catalog()
    next_path = safe_next(request.form.get("next"))
    typed = request.form.get("email", "")
    try:
        address = parse_email(typed)
    except InvalidSubscription:
        return render("sign_in.html.j2", status=400, next=next_path, email=typed[:254],
                      error=words.t("web.signin.bad_email"))
    now = state.clock()
    try:
        link = signin.issue_link(
            state.repo, email=address, key=state.sign_in_key,
            client=client_fingerprint(request.remote_addr, key=state.client_key),
            public_url=state.settings.mail.public_url, next_path=next_path, now=now,
        )
    except signin.TooManyLinks as exc:
        minutes = max(1, int(exc.retry_after.total_seconds() // 60))
        return render("message.html.j2", status=429, title=words.t("web.signin.title"),
                      message=words.t("web.signin.too_many", minutes=minutes), links=())
    mail = state.settings.mail
    message = signin.sign_in_message(catalog=words, recipient=address, url=link.url,
                                     mail_from=mail.mail_from, site=site_name(mail.public_url),
                                     now=now)
    try:
        signin.send_now(state.transport(), message, sender=mail.mail_from, recipient=address,
                        link_id=link.link_id, now=now)
    except DeliveryError as exc:
        log.warning("sign-in link %s could not be sent: %s", link.link_id, exc)
        return render("message.html.j2", status=503, title=words.t("web.signin.title"),
                      message=words.t("web.signin.send_failed"), links=())
    log.info("sign-in link %s sent", link.link_id)
    session["sign_in_to"] = address
    return redirect(url_for("account.sign_in_sent"), code=303)


@bp.get("/sign-in/sent")
def sign_in_sent() -> tuple[str, int]:
    words = catalog()
    address = session.get("sign_in_to")
    minutes = int(signin.LINK_TTL.total_seconds() // 60)
    return render("message.html.j2", title=words.t("web.signin.title"),
                  message=words.t("web.signin.sent", email=str(address or ""), minutes=minutes),
                  links=())


def _bad_link(problem: str) -> tuple[str, int]:
    words = catalog()
    status = 400 if problem == "invalid" else 410
    again = (words.t("web.signin.again"), url_for("account.sign_in"))
    return render("message.html.j2", status=status, title=words.t("web.signin.title"),
                  message=words.t(f"web.signin.{problem}"), links=(again,))


@bp.get("/sign-in/<token>")
def sign_in_link(token: str) -> tuple[str, int]:
    state = web_state()
    try:
        claims = signin.read_token(token, key=state.sign_in_key)
        address = signin.check_link(state.repo, claims, now=state.clock())
    except signin.BadLink as exc:
        return _bad_link(exc.problem)
    return render("sign_in_confirm.html.j2", email=address,
                  action=url_for("account.use_sign_in_link", token=token))


@bp.post("/sign-in/<token>")
def use_sign_in_link(token: str) -> tuple[str, int] | Response:
    state = web_state()
    now = state.clock()
    try:
        claims = signin.read_token(token, key=state.sign_in_key)
        address = signin.use_link(state.repo, claims, now=now)
    except signin.BadLink as exc:
        return _bad_link(exc.problem)
    sign_in(address, auth=AUTH_LINK, now=now)
    rotate_csrf(session)
    notice(catalog().t("web.signin.signed_in", email=address))
    return redirect(safe_next(claims.next_path, default=url_for("account.account")), code=303)


@bp.post("/sign-out")
def sign_out_now() -> Response:
    sign_out()
    rotate_csrf(session)
    notice(catalog().t("web.signin.signed_out"))
    return redirect(url_for("pages.dashboard"), code=303)


@bp.get("/manage/<token>")
def manage(token: str) -> tuple[str, int] | Response:
    state, words = web_state(), catalog()
    try:
        claims = verify(token, key=state.link_key, purpose=Purpose.MANAGE)
    except InvalidToken:
        return render("message.html.j2", status=400, title=words.t("web.account.title"),
                      message=words.t("web.manage.invalid"), links=())
    with state.repo.read() as db:
        address = (web_repo.subscriber_email(db, claims.target_id)
                   if claims.scope is Scope.SUBSCRIBER else None)
    if address is None:
        return render("message.html.j2", status=404, title=words.t("web.account.title"),
                      message=words.t("web.manage.gone"), links=())
    if current_visitor().email != address:
        sign_in(address, auth=AUTH_MANAGE, now=state.clock())
        rotate_csrf(session)
    return redirect(url_for("account.account"), code=303)


# --- the account page ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Followed:
    id: int
    label: str
    url: str
    details: str
    active: bool
    ended: str


@dataclass(frozen=True, slots=True)
class Preferences:
    name: str
    affiliate: str
    languages: tuple[Option, ...]
    frequencies: tuple[Option, ...]
    timezones: tuple[Option, ...]
    hours: tuple[Option, ...]
    weekdays: tuple[Option, ...]


def describe_subscription(w: Words, subscription: SubscriptionView) -> Followed:
    """A subscription as the account and unsubscribe pages name it, with a link to its target."""
    kind, target = subscription.target_kind, subscription.target
    if kind == TargetKind.BILL.value:
        label, url = w.t("target.bill", bill=_bill_label(target)), bill_url(target)
    elif kind == TargetKind.TOPIC.value:
        label, url = w.t("target.topic", topic=w.topic(target)), topic_url(target)
    else:
        label = w.t("target.jurisdiction", jurisdiction=w.jurisdiction(target))
        url = url_for("pages.bills", jurisdiction=target)
    details = []
    if subscription.jurisdictions:
        details.append(w.t("web.account.within_list", jurisdictions=w.join(
            w.jurisdiction(j) for j in subscription.jurisdictions)))
    if subscription.kinds:
        details.append(w.join(w.t(f"web.kind.{k}") for k in subscription.kinds))
    if subscription.stages:
        details.append(w.join(w.stage(s, "") for s in subscription.stages))
    ended = ""
    if not subscription.active and subscription.unsubscribed_at is not None:
        ended = w.t("web.account.ended", when=w.moment(subscription.unsubscribed_at))
    return Followed(id=subscription.id, label=label, url=url, details=" · ".join(details),
                    active=subscription.active, ended=ended)


def _bill_label(key: str) -> str:
    parsed = BillKey.parse(key)
    return bill_label(parsed.jurisdiction, parsed.identifier)


def _preferences(w: Words, subscriber: SubscriberView | None) -> Preferences:
    profile = _profile(subscriber, email="", language=w.catalog.language)
    zones = list(TIMEZONES)
    if profile.timezone not in zones:
        zones.insert(0, profile.timezone)
    return Preferences(
        name=profile.name, affiliate=profile.affiliate,
        languages=options(((lang.value, w.t(f"web.language.{lang.value}")) for lang in Language),
                          profile.language.value),
        frequencies=options(((f.value, w.t(f"web.frequency.{f.value}")) for f in Frequency),
                            profile.frequency.value),
        timezones=options(((z, z) for z in zones), profile.timezone),
        hours=options(((str(h), f"{h:02d}:00") for h in range(24)), str(profile.digest_hour)),
        weekdays=options(((str(i), w.t(f"web.weekday.{name}")) for i, name in enumerate(WEEKDAYS)),
                         str(profile.digest_weekday)),
    )


def _profile(
    subscriber: SubscriberView | None, *, email: str, language: Language
) -> SubscriberProfile:
    """The stored profile, or the defaults (in the page's language) for a new subscriber."""
    if subscriber is None:
        return SubscriberProfile(email=email, language=language)
    return SubscriberProfile(
        email=subscriber.email, name=subscriber.name, affiliate=subscriber.affiliate,
        language=parse_language(subscriber.language), timezone=subscriber.timezone,
        frequency=parse_frequency(subscriber.frequency), digest_hour=subscriber.digest_hour,
        digest_weekday=subscriber.digest_weekday,
    )


def _covered(w: Words) -> tuple[Option, ...]:
    state = web_state()
    codes = sorted(catalog_from(state.settings, state.registry).jurisdictions)
    return options(((code, w.jurisdiction(code)) for code in codes), None)


@bp.get("/account")
@signed_in_required
def account() -> tuple[str, int]:
    state, w = web_state(), page_words()
    address = _signed_in_email()
    assert address is not None
    with state.repo.read() as db:
        subscriber = store.get_subscriber(db, address)
        subscriptions = store.subscriptions_of(db, subscriber.id) if subscriber else []
    followed = tuple(describe_subscription(w, s) for s in reversed(subscriptions))
    return render(
        "account.html.j2", email=address,
        active=tuple(f for f in followed if f.active),
        ended=tuple(f for f in followed if not f.active),
        preferences=_preferences(w, subscriber),
        topics=options(((t.id, w.topic(t.id)) for t in state.settings.topics), None),
        jurisdictions=_covered(w),
    )


def _invalid(error: InvalidSubscription) -> tuple[str, int]:
    words = catalog()
    back = (words.t("web.account.back"), url_for("account.account"))
    return render("message.html.j2", status=400, title=words.t("web.account.title"),
                  message=str(error), links=(back,))


def _stored_subscriber(db: Any, address: str, *, now: datetime) -> SubscriberView:
    """The visitor's subscriber, made with the page's language on first use."""
    found = store.get_subscriber(db, address)
    if found is not None:
        return found
    profile = _profile(None, email=address, language=catalog().language)
    return store.upsert_subscriber(db, profile, origin=ORIGIN, now=now)


@bp.post("/account/preferences")
@signed_in_required
def save_preferences() -> tuple[str, int] | Response:
    state, form = web_state(), request.form
    address = _signed_in_email()
    assert address is not None
    try:
        hour_text, weekday_text = form.get("hour", "7"), form.get("weekday", "0")
        if not hour_text.isdigit() or not weekday_text.isdigit() or int(weekday_text) > 6:
            raise InvalidSubscription(f"hour {hour_text!r} and weekday {weekday_text!r} must "
                                      "be numbers (0-23, 0-6)")
        profile = SubscriberProfile(
            email=address, name=form.get("name", "").strip(),
            affiliate=form.get("affiliate", "").strip(),
            language=parse_language(form.get("language", "")),
            timezone=parse_timezone(form.get("timezone", "")),
            frequency=parse_frequency(form.get("frequency", "")),
            digest_hour=parse_hour(int(hour_text)), digest_weekday=int(weekday_text),
        )
    except InvalidSubscription as exc:
        return _invalid(exc)
    with state.repo.write() as db:
        store.upsert_subscriber(db, profile, origin=ORIGIN, now=state.clock())
    notice(catalog().t("web.account.saved"))
    return redirect(url_for("account.account"), code=303)


def _within(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(parse_jurisdiction(v) for v in values if v.strip()))


@bp.post("/follow")
@signed_in_required
def follow() -> tuple[str, int] | Response:
    state, w = web_state(), page_words()
    address = _signed_in_email()
    assert address is not None
    try:
        target = parse_target(request.form.get("target", ""))
        spec = check_spec(
            SubscriptionSpec(target, within=_within(request.form.getlist("within"))),
            catalog=catalog_from(state.settings, state.registry),
        )
    except InvalidSubscription as exc:
        return _invalid(exc)
    now = state.clock()
    with state.repo.write() as db:
        if target.kind is TargetKind.BILL and not store.bill_is_stored(db, target.value):
            abort(404)
        subscriber = _stored_subscriber(db, address, now=now)
        view, outcome = store.add_subscription(
            db, subscriber_id=subscriber.id, target_kind=target.kind.value, target=target.value,
            jurisdictions=spec.within, kinds=(), stages=(), origin=ORIGIN, now=now,
        )
    label = describe_subscription(w, view).label
    key = "web.account.already" if outcome == "unchanged" else "web.account.followed"
    notice(w.t(key, target=label))
    return redirect(safe_next(request.form.get("next"), default=url_for("account.account")),
                    code=303)


@bp.post("/unfollow")
@signed_in_required
def unfollow() -> tuple[str, int] | Response:
    state, w = web_state(), page_words()
    address = _signed_in_email()
    assert address is not None
    text = request.form.get("subscription", "")
    if not text.isdigit():
        abort(400)
    with state.repo.write() as db:
        subscriber = store.get_subscriber(db, address)
        mine = store.subscriptions_of(db, subscriber.id) if subscriber else []
        found = next((s for s in mine if s.id == int(text)), None)
        if subscriber is None or found is None:
            abort(404)  # not the visitor's: say nothing about whose it is
        store.end_subscriptions(db, subscriber_id=subscriber.id, ended_by="subscriber",
                                now=state.clock(), ids=[found.id])
    notice(w.t("web.account.unfollowed", target=describe_subscription(w, found).label))
    return redirect(safe_next(request.form.get("next"), default=url_for("account.account")),
                    code=303)
