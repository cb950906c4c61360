// Email through the SMTP server configured in the chart (nodemailer): the test link goes to the
// test user. STARTTLS is required on smtp:// unless the host is loopback (tests, local runs).
import nodemailer from 'nodemailer';
import type { Mailer } from './context.ts';
import type { PortalOptions } from './options.ts';

export function smtpMailer(smtp: NonNullable<PortalOptions['smtp']>): Mailer {
  const url = new URL(smtp.url);
  const loopback = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  const secure = url.protocol === 'smtps:';
  const user = smtp.user ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const transport = nodemailer.createTransport({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || (secure ? 465 : 587)),
    secure,
    requireTLS: !secure && !loopback,
    ...(user ? { auth: { user, pass: smtp.password ?? decodeURIComponent(url.password) } } : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  return {
    async send(m) {
      await transport.sendMail({ from: smtp.from, to: m.to, subject: m.subject, text: m.text, ...(m.html ? { html: m.html } : {}) });
    },
  };
}
