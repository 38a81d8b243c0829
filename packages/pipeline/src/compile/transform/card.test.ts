import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskCards } from './card.js';

const mask = (text: string) => maskCards(text, (m) => `<${m}>`);

test('card numbers that pass Luhn are found, grouped or not', () => {
  assert.equal(mask('paid with 4111111111111111 today'), 'paid with <4111111111111111> today');
  assert.equal(mask('card 4111 1111 1111 1111.'), 'card <4111 1111 1111 1111>.');
  assert.equal(mask('card=5500-0000-0000-0004,ok'), 'card=<5500-0000-0000-0004>,ok');
  assert.equal(mask('amex 378282246310005 visa13 4222222222222'), 'amex <378282246310005> visa13 <4222222222222>');
  assert.equal(mask('two: 4111111111111111 and 5555555555554444'), 'two: <4111111111111111> and <5555555555554444>');
});

test('digit runs that fail Luhn or have the wrong length are left alone', () => {
  for (const text of ['order 4111111111111112', 'id 1234567890123', 'ts 20240115123045123456789', 'ph 555 1234', '4111  1111 1111 1111', '4111--1111-1111-1111']) {
    assert.equal(mask(text), text);
  }
  const text = 'no digits here';
  assert.equal(maskCards(text, () => 'x'), text, 'the same string back when nothing matched');
});

test('a card next to other digit groups is still found', () => {
  assert.equal(mask('2024-01-15 4111111111111111'), '2024-01-15 <4111111111111111>');
  assert.equal(mask('4111 1111 1111 1111 2024'), '<4111 1111 1111 1111> 2024');
});

test('hostile inputs stay linear', () => {
  const spaced = '1 '.repeat(500_000);
  const started = performance.now();
  mask(spaced);
  mask('9'.repeat(1_000_000));
  mask('12-'.repeat(300_000));
  assert.ok(performance.now() - started < 2000, 'scans 1 MB inputs quickly');
});
