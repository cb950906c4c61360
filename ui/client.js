// Gatehouse's only browser script (served from the page's origin; the CSP forbids inline code).
// Everything works without it; it adds copy buttons, confirmation prompts and live status.
'use strict';

function copyButtons() {
  for (const button of document.querySelectorAll('button[data-copy]')) {
    button.hidden = false;
    button.addEventListener('click', async () => {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      const text = source.value ?? source.textContent ?? '';
      try {
        await navigator.clipboard.writeText(text.trim());
        button.textContent = 'Copied';
      } catch {
        const range = document.createRange();
        range.selectNodeContents(source);
        const selection = window.getSelection();
        selection?.removeAllRanges();
        selection?.addRange(range);
        button.textContent = 'Selected — press Ctrl+C';
      }
      setTimeout(() => { button.textContent = button.dataset.label || 'Copy'; }, 2500);
    });
  }
}

function confirmations() {
  for (const form of document.querySelectorAll('form[data-confirm]')) {
    form.addEventListener('submit', (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
}

// Elements with data-live="<url>" are refreshed from a JSON document: each descendant with
// data-field="a.b" gets that field's text; a <progress data-field> gets its value/max.
function liveRegions() {
  for (const region of document.querySelectorAll('[data-live]')) {
    const url = region.dataset.live;
    const every = Number(region.dataset.every || '2000');
    const tick = async () => {
      try {
        const res = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
        if (!res.ok) return;
        const doc = await res.json();
        for (const el of region.querySelectorAll('[data-field]')) {
          const value = el.dataset.field.split('.').reduce((o, k) => (o == null ? undefined : o[k]), doc);
          if (el.tagName === 'PROGRESS') {
            if (typeof value === 'object' && value) { el.max = value.max || 1; el.value = value.value || 0; }
          } else if (value !== undefined && value !== null) el.textContent = String(value);
        }
        // A link whose address arrives later (e.g. a test link): shown once the field has one.
        for (const link of region.querySelectorAll('a[data-href-field]')) {
          const href = link.dataset.hrefField.split('.').reduce((o, k) => (o == null ? undefined : o[k]), doc);
          if (typeof href === 'string' && href) { link.href = href; link.hidden = false; }
        }
        if (doc.done) return;
      } catch { /* the next tick tries again */ }
      setTimeout(tick, every);
    };
    setTimeout(tick, every);
  }
}

document.addEventListener('DOMContentLoaded', () => {
  copyButtons();
  confirmations();
  liveRegions();
});
