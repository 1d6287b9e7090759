"""``/unsubscribe/<token>``: the digests' ``List-Unsubscribe`` URL (RFC 8058 one-click).

* ``POST`` with the form body ``List-Unsubscribe=One-Click`` unsubscribes at once: no
  sign-in, no cookie, no CSRF token, no confirmation step, as RFC 8058 §3.1 requires of the
  URL a mail provider posts to. The signed token (:mod:`tracker.tokens`, purpose
  ``unsubscribe``) is the authority: a subscription token ends that subscription, a subscriber
  token ends every subscription of theirs. Posting again says so and changes nothing.
* ``GET`` (a person clicking the link) shows what would stop and a button posting the same
  body; a link scanner fetching the URL changes nothing.
* A token that is malformed, altered or signed with another key is a 400; a genuine one
  whose subscription or subscriber no longer exists is a 404. Neither changes anything.

Ending keeps the rows (``ended_by = "subscriber"``, so a config sync does not resume them)
and withdraws pending deliveries left without an active subscription
(``subscriptions_repo.end_subscriptions``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Blueprint, request, url_for
from sqlalchemy.orm import Session

from tracker.storage import subscriptions_repo as store
from tracker.storage import web_repo
from tracker.storage.subscriptions_repo import SubscriptionView
from tracker.tokens import InvalidToken, Purpose, Scope, TokenClaims, verify
from tracker.web.account import describe_subscription
from tracker.web.common import catalog, render, words
from tracker.web.security import csrf_exempt
from tracker.web.state import web_state

bp = Blueprint("unsubscribe", __name__)
log = logging.getLogger(__name__)
ONE_CLICK_FIELD, ONE_CLICK_VALUE = "List-Unsubscribe", "One-Click"


@dataclass(frozen=True, slots=True)
class Unsubscription:
    """What a token ends: the subscriber, and the subscriptions concerned."""

    subscriber_id: int
    email: str
    subscriptions: tuple[SubscriptionView, ...]
    whole: bool  # every subscription of the subscriber

    @property
    def active_ids(self) -> list[int]:
        return [s.id for s in self.subscriptions if s.active]


def resolve(db: Session, claims: TokenClaims) -> Unsubscription | None:
    """What ``claims`` (a verified unsubscribe token) ends, or None when it is gone."""
    if claims.scope is Scope.SUBSCRIPTION:
        subscriber_id = web_repo.subscription_owner(db, claims.target_id)
    else:
        subscriber_id = claims.target_id
    email = web_repo.subscriber_email(db, subscriber_id) if subscriber_id is not None else None
    if subscriber_id is None or email is None:
        return None
    mine = store.subscriptions_of(db, subscriber_id)
    whole = claims.scope is Scope.SUBSCRIBER
    concerned = tuple(s for s in mine if whole or s.id == claims.target_id)
    return Unsubscription(subscriber_id=subscriber_id, email=email, subscriptions=concerned,
                          whole=whole)


def _message(status: int, key: str, **values: object) -> tuple[str, int]:
    words_of = catalog()
    manage = (words_of.t("web.unsubscribe.home"), url_for("pages.dashboard"))
    return render("message.html.j2", status=status, title=words_of.t("web.unsubscribe.title"),
                  message=words_of.t(key, **values), links=(manage,))


def _verified(token: str) -> TokenClaims | None:
    try:
        return verify(token, key=web_state().link_key, purpose=Purpose.UNSUBSCRIBE)
    except InvalidToken as exc:
        log.info("unsubscribe refused: %s", exc)
        return None


def _what(found: Unsubscription) -> str:
    if found.whole:
        return catalog().t("web.unsubscribe.what_all", email=found.email)
    return describe_subscription(words(), found.subscriptions[0]).label


@bp.get("/unsubscribe/<token>")
def confirm(token: str) -> tuple[str, int]:
    claims = _verified(token)
    if claims is None:
        return _message(400, "web.unsubscribe.invalid")
    with web_state().repo.read() as db:
        found = resolve(db, claims)
    if found is None:
        return _message(404, "web.unsubscribe.gone")
    if not found.active_ids:
        return _message(200, "web.unsubscribe.already")
    return render("unsubscribe.html.j2", what=_what(found), whole=found.whole,
                  action=url_for("unsubscribe.one_click", token=token),
                  field=ONE_CLICK_FIELD, value=ONE_CLICK_VALUE)


@bp.post("/unsubscribe/<token>")
@csrf_exempt
def one_click(token: str) -> tuple[str, int]:
    if request.form.get(ONE_CLICK_FIELD) != ONE_CLICK_VALUE:
        return _message(400, "web.unsubscribe.no_one_click")
    claims = _verified(token)
    if claims is None:
        return _message(400, "web.unsubscribe.invalid")
    state = web_state()
    with state.repo.write() as db:
        found = resolve(db, claims)
        if found is None:
            return _message(404, "web.unsubscribe.gone")
        ids = found.active_ids
        if ids:
            store.end_subscriptions(db, subscriber_id=found.subscriber_id, ended_by="subscriber",
                                    now=state.clock(), ids=ids)
    if not ids:
        return _message(200, "web.unsubscribe.already")
    log.info("unsubscribed subscriber %s from %d subscriptions", found.subscriber_id, len(ids))
    key = "web.unsubscribe.done_all" if found.whole else "web.unsubscribe.done_one"
    return _message(200, key, target=_what(found))
