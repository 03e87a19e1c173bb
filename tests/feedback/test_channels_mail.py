"""The e-mail channel: real mails sent with smtplib to the hotline's SMTP listener (started by the app) become
reports with their photos, channel ``email`` and the sender as reporter, and are answered by e-mail through the
outbox to a real SMTP server on 127.0.0.1; other recipients are refused with 550; a mail that is not a valid
report gets an error mail and creates nothing."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from saola.app import create_app
from saola.cases.models import Case, CaseAttachment, CaseNote
from saola.core.messaging.models import OutboxMessage
from saola.feedback.models import FeedbackReport, FeedbackReporter
from tests.conftest import free_port
from tests.feedback.conftest import PNG, counts
from tests.messaging_servers import wait_for

HOTLINE = "1022@bacninh.gov.vn"
PUBLIC_URL = "https://saola.bacninh.gov.vn"
LAMP = "Đèn đường trước nhà số 12 không sáng ba hôm nay.\nĐịa chỉ: số 12 Trần Hưng Đạo, phường Kinh Bắc"


@pytest.fixture
def listener_port() -> int:
    return free_port()


@pytest.fixture
def app(settings, mailbox, listener_port):
    """The app with its mail listener on a free port and its outgoing mail going to the test SMTP server."""
    return create_app(settings.model_copy(update={
        "feedback_mail_address": HOTLINE, "feedback_smtp_host": "127.0.0.1", "feedback_smtp_port": listener_port,
        "mail_backend": "smtp", "smtp_host": "127.0.0.1", "smtp_port": mailbox[1], "smtp_starttls": False,
        "mail_from": HOTLINE, "public_url": PUBLIC_URL, "messaging_poll_seconds": 0.2}))


def mail(text: str = LAMP, *, subject: str = "Đèn đường hỏng", sender: str = "Nguyễn Văn An <an@example.vn>",
         message_id: str = "<m1@example.vn>", png: bool = True, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"], message["Message-ID"] = sender, HOTLINE, subject, message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    if png:
        message.add_attachment(PNG, maintype="image", subtype="png", filename="den-hong.png")
    return message


def send(port: int, message: EmailMessage, to: str = HOTLINE) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.send_message(message, to_addrs=[to])


def _reports(app) -> list[tuple[FeedbackReport, FeedbackReporter]]:
    with app.state.session_factory() as session:
        return [(r, p) for r, p in session.execute(
            select(FeedbackReport, FeedbackReporter).join(FeedbackReporter,
                                                          FeedbackReporter.report_id == FeedbackReport.id))]


def test_a_mail_with_a_photo_becomes_a_report_and_is_answered_with_its_code(app, client, mailbox,
                                                                           listener_port) -> None:
    send(listener_port, mail())
    [(report, reporter)] = _reports(app)
    assert report.channel == "email" and report.address == "số 12 Trần Hưng Đạo, phường Kinh Bắc"
    assert (reporter.email, reporter.name, reporter.consent) == ("an@example.vn", "Nguyễn Văn An", True)
    with app.state.session_factory() as session:
        [attachment] = session.scalars(select(CaseAttachment)).all()
        case = session.get(Case, report.case_id)
        assert case is not None
        code, description = case.code, case.description
    assert (attachment.file_name, attachment.content_type, attachment.size) == ("den-hong.png", "image/png", len(PNG))
    assert description.startswith("Đèn đường hỏng\n\nĐèn đường trước nhà số 12")

    box = mailbox[0]
    wait_for(lambda: len(box.mails) == 1)
    assert box.recipients == [["an@example.vn"]]
    answer = box.mails[0]
    assert answer["Subject"] == f"Đã tiếp nhận phản ánh {code}"
    assert f"{PUBLIC_URL}/feedback/track?code={code}" in answer.get_content()


def test_mail_to_another_address_is_refused_with_550_and_creates_nothing(app, client, listener_port) -> None:
    before = counts(app)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(listener_port, mail(), to="giamdoc@bacninh.gov.vn")
    assert refused.value.recipients["giamdoc@bacninh.gov.vn"][0] == 550
    assert counts(app) == before


def test_a_mail_without_text_gets_an_error_answer_and_creates_no_report(app, client, mailbox, listener_port) -> None:
    before = counts(app)
    send(listener_port, mail("", subject=""))
    send(listener_port, mail("Xin chào", subject="", message_id="<m2@example.vn>"))  # one error mail an hour
    assert counts(app) == before
    box = mailbox[0]
    wait_for(lambda: len(box.mails) == 1)
    assert box.recipients == [["an@example.vn"]]
    answer = box.mails[0]
    assert answer["Subject"] == "Thư của bạn gửi Tổng đài 1022 chưa được tiếp nhận thành phản ánh"
    body = answer.get_content()
    assert "- hãy mô tả vấn đề bằng ít nhất 10 ký tự\n" in body  # the intake's problem, in Vietnamese
    assert "Địa chỉ:" in body
    with app.state.session_factory() as session:
        assert len(session.scalars(select(OutboxMessage)).all()) == 1


def test_a_mail_delivered_twice_is_one_report_with_one_answer(app, client, mailbox, listener_port) -> None:
    send(listener_port, mail())
    send(listener_port, mail())
    assert len(_reports(app)) == 1
    wait_for(lambda: len(mailbox[0].mails) == 1)
    with app.state.session_factory() as session:
        assert len(session.scalars(select(OutboxMessage)).all()) == 1


def test_automatic_mail_is_accepted_but_never_answered(app, client, listener_port) -> None:
    before = counts(app)
    send(listener_port, mail("Tôi đang nghỉ phép đến thứ Hai, sẽ trả lời sau.", Auto_Submitted="auto-replied"))
    assert counts(app) == before
    with app.state.session_factory() as session:
        assert session.scalars(select(OutboxMessage)).all() == []


def test_a_reply_quoting_the_code_from_the_same_address_is_a_follow_up(app, client, mailbox, listener_port) -> None:
    send(listener_port, mail())
    wait_for(lambda: len(mailbox[0].mails) == 1)
    subject = mailbox[0].mails[0]["Subject"]
    code = subject.rsplit(" ", 1)[-1]
    send(listener_port, mail("Đèn vẫn chưa được sửa, nhờ kiểm tra lại.\n> Đã tiếp nhận phản ánh",
                             subject=f"Re: {subject}", sender="AN@example.vn", message_id="<m2@example.vn>",
                             png=False))
    assert len(_reports(app)) == 1
    with app.state.session_factory() as session:
        [note] = session.scalars(select(CaseNote)).all()
    assert not note.public and "Đèn vẫn chưa được sửa" in note.text and "> Đã" not in note.text
    wait_for(lambda: len(mailbox[0].mails) == 2)
    assert mailbox[0].mails[1]["Subject"] == f"Ý kiến của bạn đã được bổ sung vào phản ánh {code}"


def test_the_listener_command_refuses_to_start_without_the_hotline_address(monkeypatch, tmp_path) -> None:
    from saola.cli import app as cli

    monkeypatch.setenv("SAOLA_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SAOLA_FEEDBACK_MAIL_ADDRESS", raising=False)
    result = CliRunner().invoke(cli, ["feedback", "mail-listener", "--port", str(free_port())])
    assert result.exit_code == 2
    assert "SAOLA_FEEDBACK_MAIL_ADDRESS" in result.output


def test_an_html_mail_without_message_id_delivered_twice_is_one_report(app, client, listener_port) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "chi@example.vn", HOTLINE, "Cây đổ"
    message.set_content("<p>Cây đổ chắn ngang đường <b>Lý Thái Tổ</b>.</p><p>Địa chỉ: 5 Lý Thái Tổ</p>",
                        subtype="html")
    send(listener_port, message)
    send(listener_port, message)
    [(report, _reporter)] = _reports(app)
    with app.state.session_factory() as session:
        case = session.get(Case, report.case_id)
        assert case is not None
    assert "<b>" not in case.description and "Cây đổ chắn ngang đường Lý Thái Tổ.\n" in case.description
    assert report.address == "5 Lý Thái Tổ"


def test_a_mail_with_no_valid_sender_is_refused(app, client, listener_port) -> None:
    before = counts(app)
    with smtplib.SMTP("127.0.0.1", listener_port, timeout=10) as smtp, pytest.raises(smtplib.SMTPDataError) as refused:
        smtp.sendmail("not-an-address", [HOTLINE], mail(sender="nobody").as_bytes())
    assert refused.value.smtp_code == 550
    assert counts(app) == before
