"""One-time sign-in links, kept only as the SHA-256 of their token."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from infra.tables import MemberRow, SignInLinkRow


@dataclass(frozen=True)
class StoredLink:
    """A link as stored: whose it is, until when it works, and when it was used."""

    member_id: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


class SignInLinkRepository:
    """Adding links, finding one by its token's hash, and using it once."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def members_with_address(self, email: str) -> list[str]:
        """The roster's member ids whose address is ``email``, case and spaces ignored (a
        link goes only to a roster address; the caller reads each member, seal-checked)."""
        wanted = email.strip().lower()
        if not wanted:
            return []
        return list(
            self.session.scalars(
                select(MemberRow.member_id)
                .where(func.lower(func.trim(MemberRow.email)) == wanted)
                .order_by(MemberRow.member_id)
            )
        )

    def add(
        self, token_hash: str, member_id: str, created_at: datetime, expires_at: datetime
    ) -> None:
        self.session.add(
            SignInLinkRow(
                token_hash=token_hash,
                member_id=member_id,
                created_at=created_at,
                expires_at=expires_at,
                used_at=None,
            )
        )
        self.session.flush()

    def get(self, token_hash: str) -> StoredLink | None:
        row = self.session.get(SignInLinkRow, token_hash)
        if row is None:
            return None
        return StoredLink(row.member_id, row.created_at, row.expires_at, row.used_at)

    def use(self, token_hash: str, now: datetime) -> bool:
        """Mark the link used, unless it was used already or has expired: one guarded
        ``UPDATE``, so of two redeeming at once exactly one succeeds."""
        result = self.session.execute(
            update(SignInLinkRow)
            .where(
                SignInLinkRow.token_hash == token_hash,
                SignInLinkRow.used_at.is_(None),
                SignInLinkRow.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    def of_member(self, member_id: str) -> list[StoredLink]:
        rows = self.session.scalars(
            select(SignInLinkRow)
            .where(SignInLinkRow.member_id == member_id)
            .order_by(SignInLinkRow.created_at)
        )
        return [StoredLink(r.member_id, r.created_at, r.expires_at, r.used_at) for r in rows]

    def forget_expired(self, before: datetime) -> int:
        """Delete the links that expired before ``before``: they can never be used."""
        result = self.session.execute(
            delete(SignInLinkRow)
            .where(SignInLinkRow.expires_at < before)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)
