"""Client emails: minimal content in the client's zone, plain text and HTML, safe headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest

from selfsched.emails import NO_LOCATION, check_header, message_id, render
from selfsched.errors import InvalidHeader, InvalidInput
from selfsched.events import EmailKind, EmailMessage
from selfsched.model import Appointment, Client, Clinician, Practice

START = datetime(2026, 4, 13, 14, 0, tzinfo=UTC)  # 10:00 EDT, 07:00 PDT
APPOINTMENT = Appointment(
    id="appointment-7",
    client_id="alice",
    clinician_id="c1",
    start=START,
    end=START + timedelta(minutes=50),
    status="booked",
    service_code="90834",
    code_modifier="HJ",
    location="Main Street Office",
    version=2,
)
ALICE = Client(id="alice", name="Alice Adams", email="alice@example.org")
RIVERA = Clinician(id="c1", name="Dr. Rivera", zone="America/New_York", service_code="90834")
PRACTICE = Practice(name="Riverside Counselling", zone="America/New_York", phone="555-0100")


def email(
    kind: EmailKind = EmailKind.APPROVED,
    appointment: Appointment = APPOINTMENT,
    client: Client = ALICE,
    clinician: Clinician = RIVERA,
    practice: Practice = PRACTICE,
) -> EmailMessage:
    """Render with the defaults above."""
    return render(
        kind,
        appointment,
        client=client,
        clinician=clinician,
        practice=practice,
        domain="mail.example.org",
    )


def test_approval_email_in_full() -> None:
    """The approval email: greeting, what happened, date, time with the zone named, clinician,
    location, practice. Nothing more."""
    expected = EmailMessage(
        message_id="<appointment-7.approved.v2@mail.example.org>",
        kind=EmailKind.APPROVED,
        appointment_id="appointment-7",
        client_id="alice",
        to="alice@example.org",
        subject="Your appointment request was approved",
        text=(
            "Hello Alice Adams,\n"
            "\n"
            "Your appointment request has been approved.\n"
            "\n"
            "Date: Monday, April 13, 2026\n"
            "Time: 10:00 AM EDT (America/New_York)\n"
            "Clinician: Dr. Rivera\n"
            "Location: Main Street Office\n"
            "\n"
            "Riverside Counselling · 555-0100\n"
        ),
        html=(
            "<!doctype html><html><body><p>Hello Alice Adams,</p>"
            "<p>Your appointment request has been approved.</p><table>"
            "<tr><th align='left'>Date</th><td>Monday, April 13, 2026</td></tr>"
            "<tr><th align='left'>Time</th><td>10:00 AM EDT (America/New_York)</td></tr>"
            "<tr><th align='left'>Clinician</th><td>Dr. Rivera</td></tr>"
            "<tr><th align='left'>Location</th><td>Main Street Office</td></tr>"
            "</table><p>Riverside Counselling · 555-0100</p></body></html>"
        ),
    )

    assert expected == email()


def test_rejection_email_says_to_call() -> None:
    """ "the client gets an email telling them it wasn't approved and to call their clinician or
    the clinic for assistance." The practice has a phone number, so the email says which."""
    message = email(EmailKind.REJECTED)

    assert "Your appointment request was not approved" == message.subject
    assert (
        "Your appointment request was not approved. Please call your clinician or the clinic at "
        "555-0100 for assistance."
    ) == message.text.splitlines()[2]


def test_rejection_email_without_a_practice_phone_says_to_call_the_clinic() -> None:
    """A practice without a phone number: "call ... the clinic", as the article words it."""
    message = email(EmailKind.REJECTED, practice=attrs.evolve(PRACTICE, phone=None))

    assert (
        "Your appointment request was not approved. Please call your clinician or the clinic for "
        "assistance."
    ) == message.text.splitlines()[2]


def test_expiry_email_says_not_approved() -> None:
    """An expired request tells the client it was not approved (in time) and to call."""
    message = email(EmailKind.EXPIRED)

    assert "Your appointment request was not approved" == message.subject
    assert (
        "Your appointment request was not approved in time and has expired. Please call your "
        "clinician or the clinic at 555-0100 for assistance."
    ) == message.text.splitlines()[2]


def test_confirmation_email() -> None:
    """The optional INSTANT-mode confirmation says the appointment is booked."""
    message = email(EmailKind.CONFIRMED)

    assert ("Your appointment is booked", "Your appointment has been booked.") == (
        message.subject,
        message.text.splitlines()[2],
    )


def test_time_is_in_the_clients_zone_with_the_zone_named() -> None:
    """A client with its own zone reads the time on its own clock, zone abbreviation and key
    named; the date too."""
    bob = Client(id="bob", name="Bob", email="bob@example.org", zone="America/Los_Angeles")

    lines = email(client=bob).text.splitlines()

    assert ["Date: Monday, April 13, 2026", "Time: 7:00 AM PDT (America/Los_Angeles)"] == lines[4:6]


def test_date_follows_the_clients_zone_across_midnight() -> None:
    """An appointment on Monday evening in New York is Tuesday morning in Tokyo."""
    evening = attrs.evolve(
        APPOINTMENT, start=START + timedelta(hours=9), end=START + timedelta(hours=10)
    )
    kenji = Client(id="k", name="Kenji", email="k@example.org", zone="Asia/Tokyo")

    lines = email(appointment=evening, client=kenji).text.splitlines()

    assert ["Date: Tuesday, April 14, 2026", "Time: 8:00 AM JST (Asia/Tokyo)"] == lines[4:6]


def test_client_without_zone_reads_the_practices_zone() -> None:
    """No zone on the client: the practice's zone is used (and named)."""
    practice = attrs.evolve(PRACTICE, zone="America/Chicago")

    assert "Time: 9:00 AM CDT (America/Chicago)" == email(practice=practice).text.splitlines()[5]


def test_afternoon_time_has_no_leading_zero() -> None:
    """Times read like a person writes them: 2:30 PM, not 02:30 PM."""
    later = attrs.evolve(
        APPOINTMENT, start=START + timedelta(hours=4, minutes=30), end=START + timedelta(hours=5)
    )

    assert "Time: 2:30 PM EDT (America/New_York)" == email(appointment=later).text.splitlines()[5]


def test_no_location_set() -> None:
    """Without a location the email says "No Location Set"."""
    nowhere = attrs.evolve(APPOINTMENT, location=None)

    assert "No Location Set" == NO_LOCATION
    assert "Location: No Location Set" == email(appointment=nowhere).text.splitlines()[7]
    assert "<td>No Location Set</td>" in email(appointment=nowhere).html


@pytest.mark.parametrize("kind", list(EmailKind))
def test_never_a_service_code_or_modifier(kind: EmailKind) -> None:
    """No email, of any kind, in either body, shows the service code or its modifier."""
    message = email(kind)

    for secret in ("90834", "HJ"):
        assert (False, False, False) == (
            secret in message.text,
            secret in message.html,
            secret in message.subject,
        )


def test_unnamed_people() -> None:
    """No client name: a plain greeting; no clinician name: "your clinician"; no phone: the
    practice's name alone."""
    message = email(
        client=attrs.evolve(ALICE, name=""),
        clinician=attrs.evolve(RIVERA, name=""),
        practice=attrs.evolve(PRACTICE, phone=None),
    )

    lines = message.text.splitlines()
    assert ("Hello,", "Clinician: your clinician", "Riverside Counselling") == (
        lines[0],
        lines[6],
        lines[9],
    )


def test_html_escapes_what_people_typed() -> None:
    """Names and locations are escaped in the HTML body; the text body keeps them as typed."""
    client = attrs.evolve(ALICE, name="<b>Al</b> & co")
    place = attrs.evolve(APPOINTMENT, location="Suite <3>")

    message = email(appointment=place, client=client)

    assert "<p>Hello &lt;b&gt;Al&lt;/b&gt; &amp; co,</p>" in message.html
    assert "<td>Suite &lt;3&gt;</td>" in message.html
    assert "<b>" not in message.html
    assert "Hello <b>Al</b> & co," == message.text.splitlines()[0]


def test_message_id_is_stable() -> None:
    """The same email rendered twice has the same Message-ID; another kind or version differs."""
    again = email()
    newer = email(appointment=attrs.evolve(APPOINTMENT, version=3))

    assert email().message_id == again.message_id
    assert "<appointment-7.rejected.v2@mail.example.org>" == email(EmailKind.REJECTED).message_id
    assert "<appointment-7.approved.v3@mail.example.org>" == newer.message_id


def test_message_id_sanitises_the_appointment_id() -> None:
    """Characters an id may hold but a Message-ID must not (spaces, @, <, >, line breaks) are
    replaced."""
    odd = attrs.evolve(APPOINTMENT, id="a b@c<d>\r\ne")

    assert "<a_b_c_d___e.approved.v2@x.test>" == message_id(odd, EmailKind.APPROVED, "x.test")


CONTROLS = sorted(
    {ch for ch in map(chr, range(0x3000)) if len(f"a{ch}b".splitlines()) > 1}
    | {chr(c) for c in (*range(0x20), *range(0x7F, 0xA0))}
)
"""Every character str.splitlines splits on, and every C0 and C1 control (tab and NUL too)."""


@pytest.mark.parametrize("ch", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_item5_control_characters_in_header_values_are_refused(ch: str) -> None:
    """Every character that splits a line, and every other C0/C1 control, is refused in a header
    value, with a message naming the field and the character but never the value (PHI).

    Regression (issue 7, item 5): VT, FF and FS-RS passed, the change committed and the email
    package then refused the header; five attempts later the email was given up.
    """
    value = f"alice{ch}@example.org"
    with pytest.raises(InvalidHeader) as caught:
        check_header("client email address", value)

    assert (
        f"The client email address contains a control character (U+{ord(ch):04X}) at position "
        f"5; remove it before sending email."
    ) == str(caught.value)
    assert "alice" not in str(caught.value)
    assert isinstance(caught.value, InvalidInput)


def test_item5_the_class_covers_what_the_email_package_refuses() -> None:
    """Whatever the standard email package refuses in a header, check_header refuses first."""
    from email.message import EmailMessage as Mime  # noqa: PLC0415
    from email.policy import SMTP  # noqa: PLC0415

    refused_by_email = []
    for code in range(0x3000):
        value = f"a{chr(code)}b"
        try:
            Mime(policy=SMTP)["Subject"] = value
        except ValueError:
            refused_by_email.append(code)
            with pytest.raises(InvalidHeader):
                check_header("subject", value)

    assert {0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029} <= set(refused_by_email)


def test_clean_header_value_passes() -> None:
    """An ordinary value comes back unchanged."""
    assert "Alice Adams <alice@example.org>" == check_header(
        "to", "Alice Adams <alice@example.org>"
    )


def test_recipient_with_line_break_is_refused() -> None:
    """A client email address carrying a header injection is refused before any email exists."""
    sneaky = attrs.evolve(ALICE, email="alice@example.org\r\nBcc: all@example.org")

    with pytest.raises(InvalidHeader):
        email(client=sneaky)


def test_client_without_email_cannot_be_emailed() -> None:
    """Rendering for a client without an address says to add one."""
    with pytest.raises(InvalidHeader) as caught:
        email(client=attrs.evolve(ALICE, email=None))

    assert "Client 'alice' has no email address; add one to email them." == str(caught.value)


def test_mail_domain_with_line_break_is_refused() -> None:
    """The Message-ID header is checked too: a domain with a line break is refused.

    Regression: the domain went into the Message-ID header unchecked.
    """
    with pytest.raises(InvalidHeader):
        render(
            EmailKind.APPROVED,
            APPOINTMENT,
            client=ALICE,
            clinician=RIVERA,
            practice=PRACTICE,
            domain="example.org>\r\nBcc: all@example.org",
        )
