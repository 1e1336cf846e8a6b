"""Notices: Chinese texts from templates, inline channels (log, memory), and the postman that delivers by SMTP or SMS."""

from activities.notices.channels import Channel, LogChannel, MemoryChannel
from activities.notices.postman import FAILED_KIND, Postman
from activities.notices.render import CallNames, Texts, render
from activities.notices.setup import postman_for
from activities.notices.sms import LogSmsProvider, SmsProvider, SmsTransport
from activities.notices.smtp import SmtpServer, SmtpTransport, message_id, sender_domain
from activities.notices.transport import Refused, Transport

__all__ = ["FAILED_KIND", "CallNames", "Channel", "LogChannel", "LogSmsProvider", "MemoryChannel", "Postman", "Refused",
           "SmsProvider", "SmsTransport", "SmtpServer", "SmtpTransport", "Texts", "Transport", "message_id", "postman_for",
           "render", "sender_domain"]
