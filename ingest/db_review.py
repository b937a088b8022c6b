"""Tables of the review desk: staff accounts and their sessions, rewards and the reward budget.

(Cases, submissions and the audit log are in ``ingest.db``; these share its metadata.)"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ingest.db import Base, new_id, now

ROLES = ("officer", "supervisor", "admin")


class StaffUser(Base):
    """An officer, supervisor or administrator; signs in with a password."""

    __tablename__ = "staff_users"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(12))
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=now)
    disabled_at: Mapped[datetime | None] = mapped_column()


class StaffSession(Base):
    __tablename__ = "staff_sessions"
    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    expires_at: Mapped[datetime] = mapped_column()


class Reward(Base):
    """One reporter's reward for one confirmed case, as the reward rules computed it."""

    __tablename__ = "rewards"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    reporter_id: Mapped[str] = mapped_column(String(32), index=True)
    item: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    """In fen (1/100 yuan), so an even split of a joint reward is exact to the fen."""
    status: Mapped[str] = mapped_column(String(12))
    """payable (listed for payment), paid, or withheld (see reason)."""
    reason: Mapped[str | None] = mapped_column(Text)
    month: Mapped[str] = mapped_column(String(7))
    """The local calendar month (YYYY-MM) of the report, which the monthly caps count in."""
    policy_version: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=now)
    paid_at: Mapped[datetime | None] = mapped_column()
    __table_args__ = (UniqueConstraint("case_id", "reporter_id", name="uq_rewards_case_reporter"),)


class RewardBudget(Base):
    """The annual reward budget (Article 13)."""

    __tablename__ = "reward_budgets"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(default=now)
    note: Mapped[str | None] = mapped_column(Text)
