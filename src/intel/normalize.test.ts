import { describe, expect, it } from 'vitest';
import { normalizeDomain, normalizeName } from './normalize.js';

const toks = (s: string): string[] => normalizeName(s).tokens;

describe('normalizeName', () => {
  it('folds case, punctuation and diacritics', () => {
    expect(toks('Société Générale')).toEqual(toks('SOCIETE GENERALE'));
    expect(toks("NU'MAN Trading")).toEqual(['numan', 'trading']);
  });
  it('removes legal forms in many languages', () => {
    for (const n of ['Example Widgets Inc.', 'Example Widgets GmbH', 'Example Widgets Pte. Ltd.', 'OOO Example Widgets', 'Example Widgets S.A. de C.V.', 'Example Widgets Co., Ltd.'])
      expect(toks(n)).toEqual(['example', 'widget']);
  });
  it('reads Chinese through pinyin and strips Chinese legal forms', () => {
    expect(toks('阿里巴巴')).toEqual(['alibaba']);
    expect(toks('华为技术有限公司')).toEqual(toks('Huawei Technologies Co., Ltd.'));
    expect(normalizeName('阿里巴巴').transliterated).toBe(true);
  });
  it('reads Cyrillic through any-ascii', () => {
    expect(toks('ООО "Газпром нефть"')).toEqual(['gazprom', 'neft']);
  });
  it('joins dotted initials and expands abbreviations', () => {
    expect(toks('I.B.M. Corp')).toEqual(['ibm']);
    expect(toks('Acme Intl Tech Hldgs')).toEqual(['acme', 'international', 'technology', 'holding']);
  });
  it('keeps the legal form when it is the whole name', () => {
    expect(toks('Limited')).toEqual(['limited']);
    expect(toks('!!!')).toEqual([]);
  });
});

describe('normalizeDomain', () => {
  it('takes domains from URLs and email addresses', () => {
    expect(normalizeDomain('https://www.Aliyun.com/path')).toBe('aliyun.com');
    expect(normalizeDomain('someone@mail.example.org')).toBe('mail.example.org');
    expect(normalizeDomain('example.com.')).toBe('example.com');
  });
  it('refuses what is not a domain', () => {
    expect(normalizeDomain('not a domain')).toBeNull();
    expect(normalizeDomain('localhost')).toBeNull();
  });
});
