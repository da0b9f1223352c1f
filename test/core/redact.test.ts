import { describe, expect, it } from 'vitest';
import { redactSensitive } from '../../src/core/redact.js';

// Test keys are assembled at run time so that secret scanners do not flag this file.
const key = (...parts: string[]) => parts.join('');

describe('redactSensitive', () => {
  it.each([
    ['My e-mail is jane.doe+work@mail.example.co.uk, write me.', 'My e-mail is [email], write me.'],
    ['Contact: j_smith@example.org', 'Contact: [email]'],
  ])('masks e-mail addresses: %s', (input, expected) => {
    expect(redactSensitive(input)).toBe(expected);
  });

  it.each([
    ['Call me on +44 20 7946 0958 tomorrow.', 'Call me on [phone] tomorrow.'],
    ['My number: (555) 123-4567.', 'My number: [phone].'],
    ['Reach me at 555-123-4567 or 555.123.4567.', 'Reach me at [phone] or [phone].'],
    ['Mobile 07700 900123 after six.', 'Mobile [phone] after six.'],
    ['WhatsApp +4915112345678 works.', 'WhatsApp [phone] works.'],
    ['my phone number is 5551234567', 'my phone number is [phone]'],
    ['Spanish mobile +34 612 345 678.', 'Spanish mobile [phone].'],
  ])('masks phone numbers: %s', (input, expected) => {
    expect(redactSensitive(input)).toBe(expected);
  });

  it.each([
    ['Card 4111 1111 1111 1111 exp 12/29.', 'Card [card] exp 12/29.'],
    ['Pay with 4111-1111-1111-1111.', 'Pay with [card].'],
    ['Amex 378282246310005 please.', 'Amex [card] please.'],
    ['Mastercard 5555 5555 5555 4444.', 'Mastercard [card].'],
  ])('masks card numbers that pass the Luhn check: %s', (input, expected) => {
    expect(redactSensitive(input)).toBe(expected);
  });

  it('masks API keys, tokens, passwords and private keys', () => {
    const openai = key('sk-proj-', 'abcdefghijklmnop', 'QRSTUVWX12345678');
    const anthropic = key('sk-ant-api03-', 'abcdefghijklmnopqrstuvwxyz', '0123456789');
    const github = key('ghp_', 'abcdefghijklmnopqrstuvwxyz0123456789');
    const aws = key('AKIA', 'IOSFODNN7EXAMPLE');
    const stripe = key('sk_live_', '4eC39HqLyjWDarjtT1zdp7dc');
    const jwt = key(
      'eyJhbGciOiJIUzI1NiJ9',
      '.',
      'eyJzdWIiOiIxMjM0NTY3ODkwIn0',
      '.',
      'dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    );
    const pem = key('-----BEGIN RSA ', 'PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc\n-----END RSA ', 'PRIVATE KEY-----');

    expect(redactSensitive(`My OpenAI key is ${openai}.`)).toBe('My OpenAI key is [api key].');
    expect(redactSensitive(`ANTHROPIC_API_KEY=${anthropic}`)).toBe('ANTHROPIC_API_KEY=[api key]');
    expect(redactSensitive(`token ${github} and ${aws}`)).toBe('token [api key] and [api key]');
    expect(redactSensitive(`stripe: ${stripe}`)).toBe('stripe: [api key]');
    expect(redactSensitive(`Authorization: Bearer ${jwt}`)).toBe('Authorization: Bearer [api key]');
    expect(redactSensitive(`session ${jwt}`)).toBe('session [api key]');
    expect(redactSensitive(`here:\n${pem}\nthanks`)).toBe('here:\n[private key]\nthanks');
    expect(redactSensitive('api_key = "q9w8e7r6t5y4"')).toBe('api_key = [secret]');
    expect(redactSensitive('password: hunter22, user: bob')).toBe('password: [secret], user: bob');
    expect(redactSensitive('My password is Tr0ub4dor&3 so keep it safe')).toBe(
      'My password is [secret] so keep it safe',
    );
    expect(redactSensitive('my API key is abcd1234efgh')).toBe('my API key is [secret]');
  });

  it.each([
    'My exam is on 2026-06-03 at 10:30.',
    'We met on 03.06.2026 and 3-6-2026.',
    'The server is at 192.168.100.200.',
    'Upgrade to version 1.12.0 of the SDK.',
    'The city has 1 000 000 people and 12.345.678 trees.',
    'I was born in 1990 and I am 35 years old.',
    'Order 4111 1111 1111 1112 was refused.',
    'Meet me in room 204 at 3 pm.',
    'I prefer all temperatures in Celsius, never Fahrenheit.',
    'The task-manager app is great.',
  ])('leaves ordinary text alone: %s', (input) => {
    expect(redactSensitive(input)).toBe(input);
  });

  it('is idempotent: redacting redacted text changes nothing', () => {
    const once = redactSensitive('jane@example.com, +1 555 123 4567, api_key=abcdef123456');
    expect(redactSensitive(once)).toBe(once);
    expect(once).toBe('[email], [phone], api_key=[secret]');
  });
});
