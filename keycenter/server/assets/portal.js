// The portal's small client island. Every page works without it; with it:
// - the "+" under a lock code reveals two more fields (a redundant license);
// - each lock code is checked as it is left, by the server's one parser
//   (POST /api/v1/lock-codes/check), and a typo is shown on its field;
// - the activation wizard shows only the host choice selected;
// - "Copy" buttons copy a code or a key.
(() => {
  'use strict';

  for (const button of document.querySelectorAll('[data-add-lock-codes]')) {
    button.addEventListener('click', (event) => {
      event.preventDefault();
      const fields = document.querySelectorAll('[data-extra-lock-code]');
      for (const field of fields) field.hidden = false;
      const firstLabel = document.querySelector('label[for="f-lockCode0"]');
      if (firstLabel) firstLabel.textContent = 'Lock code of server 1';
      const mode = document.querySelector('input[name="servers"]');
      if (mode) mode.value = '3';
      button.hidden = true;
      const first = fields[0] && fields[0].querySelector('input');
      if (first) first.focus();
    });
  }

  function showError(input, message) {
    const error = document.getElementById(`${input.id}-error`);
    if (!error) return;
    error.textContent = message;
    error.hidden = message === '';
    if (message === '') input.removeAttribute('aria-invalid');
    else input.setAttribute('aria-invalid', 'true');
  }

  for (const input of document.querySelectorAll('input[data-lock-code]')) {
    input.addEventListener('blur', async () => {
      const value = input.value.trim();
      if (value === '') {
        showError(input, '');
        return;
      }
      try {
        const res = await fetch('/api/v1/lock-codes/check', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ lockCode: value }),
        });
        const body = await res.json();
        if (res.ok) {
          input.value = body.lockCode;
          showError(input, '');
        } else {
          showError(input, `${body.error.code}: ${body.error.message}`);
        }
      } catch {
        // Offline or the server is busy: the check on submit still runs.
      }
    });
  }

  const modes = document.querySelectorAll('input[name="hostMode"]');
  function showMode() {
    const chosen = document.querySelector('input[name="hostMode"]:checked');
    for (const section of document.querySelectorAll('[data-host-mode]')) {
      section.hidden = chosen !== null && section.getAttribute('data-host-mode') !== chosen.value;
    }
  }
  for (const radio of modes) radio.addEventListener('change', showMode);
  if (modes.length > 0) showMode();

  for (const button of document.querySelectorAll('[data-copy]')) {
    button.hidden = false;
    button.addEventListener('click', async () => {
      const target = document.getElementById(button.getAttribute('data-copy'));
      if (!target) return;
      const text = 'value' in target ? target.value : target.textContent;
      try {
        await navigator.clipboard.writeText(text.trim());
        const label = button.textContent;
        button.textContent = 'Copied';
        setTimeout(() => (button.textContent = label), 1500);
      } catch {
        if ('select' in target) target.select();
      }
    });
  }
})();
