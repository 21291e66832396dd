import type { KefuRecord } from '@kefu/core';

/**
 * NATS subject tokens may not contain `.` (the separator), whitespace, or the wildcards
 * `*` and `>`; control characters are unsafe too. Everything else (letters, digits,
 * `-`, `_`, `@`, non-ASCII) passes through.
 */
const UNSAFE_SUBJECT_CHARACTERS = /[.\s*>\p{Cc}]/gu;

/** Makes `value` one valid subject token: unsafe characters become `_`, empty becomes `_`. */
export function subjectToken(value: string): string {
  const token = value.replace(UNSAFE_SUBJECT_CHARACTERS, '_');
  return token === '' ? '_' : token;
}

/** The subject of a record: `<prefix>.<provider>.<account>.<kind>`, each token sanitized. */
export function recordSubject(prefix: string, record: Pick<KefuRecord, 'provider' | 'account' | 'kind'>): string {
  return [prefix, subjectToken(record.provider), subjectToken(record.account), subjectToken(record.kind)].join('.');
}

/**
 * The broker message id of a record, `<provider>:<account>:<record id>`: record ids are
 * unique per provider + account, so this is unique per stream (and unsanitized, so two
 * accounts whose subjects collide after sanitizing still never share an id).
 */
export function recordMessageId(record: Pick<KefuRecord, 'provider' | 'account' | 'id'>): string {
  return `${record.provider}:${record.account}:${record.id}`;
}
