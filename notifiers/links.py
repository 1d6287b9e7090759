"""The links one digest carries: manage, unsubscribe (one click), one "stop following" each.

Every link holds a signed token (:mod:`tracker.tokens`), never the subscriber's address:

* ``{TRACKER_PUBLIC_URL}/unsubscribe/{token}``: the RFC 8058 one-click target (the web UI, or
  ``tracker unsubscribe TOKEN``, acts on a POST ``List-Unsubscribe=One-Click``). A digest that
  covers one subscription carries that subscription's token; a digest that covers several
  carries a subscriber-level token that unsubscribes from everything.
* ``mailto:{TRACKER_MAIL_FROM}?subject=unsubscribe-{token}``: the mail alternative in
  ``List-Unsubscribe``.
* ``{TRACKER_PUBLIC_URL}/manage/{token}``: the subscriber's settings page.
* one ``/unsubscribe/{token}`` per subscription in the body, to stop following just one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from tracker.digest import Digest
from tracker.settings import MailSettings
from tracker.tokens import Purpose, Scope, sign


@dataclass(frozen=True, slots=True)
class DigestLinks:
    manage: str
    unsubscribe: str  # the one-click URL of the List-Unsubscribe header
    unsubscribe_mailto: str
    per_subscription: Mapping[int, str]
    only_subscription: int | None  # the one subscription ``unsubscribe`` ends; None: all

    @property
    def one_click(self) -> bool:
        """RFC 8058 one-click needs an HTTPS URL; plain http (local setups) gets no POST header."""
        return self.unsubscribe.startswith("https://")


def links_for(digest: Digest, *, mail: MailSettings, key: bytes, issued: date) -> DigestLinks:
    """The links of ``digest``, signed with ``key`` and dated ``issued``."""
    base = mail.public_url.rstrip("/")
    subscriber_id = digest.recipient.subscriber_id

    def token(purpose: Purpose, scope: Scope, target_id: int) -> str:
        return sign(key=key, purpose=purpose, scope=scope, target_id=target_id, issued=issued)

    per_subscription = {
        sid: f"{base}/unsubscribe/{token(Purpose.UNSUBSCRIBE, Scope.SUBSCRIPTION, sid)}"
        for sid in digest.subscription_ids
    }
    only = digest.subscription_ids[0] if len(digest.subscription_ids) == 1 else None
    if only is not None:
        one = token(Purpose.UNSUBSCRIBE, Scope.SUBSCRIPTION, only)
    else:
        one = token(Purpose.UNSUBSCRIBE, Scope.SUBSCRIBER, subscriber_id)
    mailto = f"mailto:{quote(mail.mail_from, safe='@')}?subject=unsubscribe-{one}"
    return DigestLinks(
        manage=f"{base}/manage/{token(Purpose.MANAGE, Scope.SUBSCRIBER, subscriber_id)}",
        unsubscribe=f"{base}/unsubscribe/{one}",
        unsubscribe_mailto=mailto,
        per_subscription=per_subscription,
        only_subscription=only,
    )
