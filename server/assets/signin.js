// The sign-in page: a local account and password, or single sign-on when
// the server has an OpenID Connect issuer.

import { request } from './api.js';
import { h, replace, field } from './dom.js';
import { showError, showMessage } from './errors.js';

/** Renders the form into `main`; resolves `onSignedIn(session)` after a good sign-in. */
export function showSignIn(main, { oidc, message, onSignedIn }) {
  const account = h('input', {
    type: 'text', name: 'account', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false',
  });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'button' }, 'Sign in');
  const alert = h('div', { role: 'alert', class: 'signin-alert' });
  const form = h('form', { class: 'signin-form', 'aria-labelledby': 'signin-title', novalidate: true },
    h('h1', { id: 'signin-title' }, 'Sign in to the Action center'),
    alert,
    field('Account', account),
    field('Password', password),
    submit,
    oidc ? h('p', { class: 'signin-sso' }, h('a', { href: '/auth/oidc/login', class: 'button-quiet' }, 'Sign in with single sign-on'))
      : null);
  replace(main, h('div', { class: 'signin' }, form));
  if (message) showMessage(alert, message, 'info');

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!account.value.trim() || !password.value) {
      showMessage(alert, 'Enter your account and password.');
      (account.value.trim() ? password : account).focus();
      return;
    }
    submit.disabled = true;
    try {
      const got = await request('POST', '/api/v1/session', {
        body: { account: account.value.trim(), password: password.value }, quiet401: true,
      });
      password.value = '';
      await onSignedIn(got.data);
    } catch (err) {
      password.value = '';
      if (err.kind === 'unauthenticated') {
        showMessage(alert, 'The account or password is not right. Try again.');
      } else {
        showError(alert, err);
      }
      submit.disabled = false;
      password.focus();
    }
  });
  account.focus();
}
