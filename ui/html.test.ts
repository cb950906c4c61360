import { describe, expect, it } from 'vitest';
import { html, trusted } from './html.ts';

describe('html', () => {
  it('escapes interpolated strings, including attribute quotes', () => {
    const name = `"><script>alert(1)</script>`;
    expect(html`<input value="${name}">`.value).toBe('<input value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">');
    expect(html`<p title='${"a'b"}'>`.value).toBe("<p title='a&#39;b'>");
  });
  it('keeps SafeHtml and joins arrays; drops null, undefined and false', () => {
    const items = ['a<b', 'c'].map((s) => html`<li>${s}</li>`);
    expect(html`<ul>${items}</ul>${null}${undefined}${false}${0}`.value).toBe('<ul><li>a&lt;b</li><li>c</li></ul>0');
    expect(html`${trusted('<br>')}`.value).toBe('<br>');
  });
});
