// Progressive enhancement only: every core flow works without JavaScript.
import { initAll } from "../govuk/govuk-frontend.min.js";

initAll();

// Session timeout warning: the server signs people out after SESSION_IDLE_TIMEOUT seconds without a
// request. Two minutes before that, offer to stay signed in (GOV.UK timeout warning pattern).
// Nothing here extends the session on its own: only the person choosing to stay does.
//
// People work in several tabs. Every page load (a request, so activity) and every "stay signed in"
// is told to the other tabs through localStorage, which move their own deadline on. Before warning
// and before signing out, a tab asks the server how long the session really has left
// (/session/status/, which is not itself activity): an idle tab never signs out someone who is
// working in another.
const ACTIVITY_KEY = "vru-session-activity";
const SIGNED_OUT_KEY = "vru-session-signed-out";

function shared(key, value) {
  try {
    if (value === undefined) return Number(window.localStorage.getItem(key) || 0);
    window.localStorage.setItem(key, String(value));
  } catch (error) {
    // Storage refused (a locked-down browser): each tab still asks the server before acting.
  }
  return 0;
}

function sessionTimeout() {
  const timeout = Number(document.body.dataset.sessionTimeout || 0);
  const dialog = document.getElementById("session-timeout");
  if (!timeout || !dialog || typeof dialog.showModal !== "function") return;
  const warnBefore = Math.min(120, Math.floor(timeout / 2));
  const remaining = dialog.querySelector(".app-timeout__remaining");
  const form = dialog.querySelector("form");
  let deadline = Date.now() + timeout * 1000;
  let timer, tick;
  let returnFocus = null;
  let signingOut = false;

  const describe = (seconds) => {
    if (seconds >= 60) {
      const minutes = Math.ceil(seconds / 60);
      return `${minutes} minute${minutes === 1 ? "" : "s"}`;
    }
    return `${seconds} second${seconds === 1 ? "" : "s"}`;
  };

  let leaving = false;
  const toSignIn = () => {
    if (leaving) return;
    leaving = true;
    signingOut = true;
    clearTimeout(timer);
    clearInterval(tick);
    window.location.href = "/login/?timeout=1";
  };

  const signOut = () => {
    if (signingOut) return;
    signingOut = true;
    // Another tab has just signed out: the session has gone already.
    if (Date.now() - shared(SIGNED_OUT_KEY) < 10000) {
      toSignIn();
      return;
    }
    const signOutForm = document.getElementById("sign-out-form");
    const body = signOutForm ? new FormData(signOutForm) : null;
    fetch("/logout/", { method: "POST", body, credentials: "same-origin" }).finally(() => {
      // Told once the session has ended, so no other tab's request races the sign-out.
      shared(SIGNED_OUT_KEY, Date.now());
      toSignIn();
    });
  };

  // Seconds the server gives the session; 0 when it has ended or cannot be asked.
  const secondsLeft = () =>
    fetch("/session/status/", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : { remaining: 0 }))
      .then((data) => Number(data.remaining) || 0)
      .catch(() => 0);

  const closeWarning = () => {
    clearInterval(tick);
    if (dialog.open) {
      dialog.close();
      if (returnFocus) returnFocus.focus();
    }
  };

  // Wait until `deadline`, warning `warnBefore` seconds ahead of it.
  const schedule = () => {
    clearTimeout(timer);
    const untilWarning = deadline - warnBefore * 1000 - Date.now();
    if (untilWarning > 0) timer = setTimeout(beforeWarning, untilWarning);
    else if (!dialog.open) timer = setTimeout(beforeWarning, 0);
    else timer = setTimeout(atDeadline, Math.max(0, deadline - Date.now()));
  };

  const activitySeen = (at) => {
    const next = at + timeout * 1000;
    if (next <= deadline || signingOut) return;
    deadline = next;
    closeWarning();
    schedule();
  };

  const beforeWarning = () =>
    secondsLeft().then((left) => {
      if (signingOut) return;
      deadline = Date.now() + left * 1000;
      if (left > warnBefore) {
        schedule(); // someone is working in another tab
        return;
      }
      returnFocus = document.activeElement;
      remaining.textContent = describe(left);
      if (!dialog.open) dialog.showModal();
      // Update the visible countdown every 20 seconds; screen readers hear it once, when it opens.
      clearInterval(tick);
      tick = setInterval(() => {
        remaining.textContent = describe(Math.max(0, Math.round((deadline - Date.now()) / 1000)));
      }, 20000);
      timer = setTimeout(atDeadline, Math.max(0, deadline - Date.now()));
    });

  const atDeadline = () =>
    secondsLeft().then((left) => {
      if (signingOut) return;
      if (left > 0) {
        // Still signed in: activity elsewhere moved the deadline on.
        deadline = Date.now() + left * 1000;
        if (left > warnBefore) closeWarning();
        schedule();
        return;
      }
      signOut();
    });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then((response) => {
        if (!response.ok) throw new Error("expired");
        const now = Date.now();
        shared(ACTIVITY_KEY, now);
        activitySeen(now);
        closeWarning();
      })
      .catch(toSignIn);
  });
  dialog.querySelector("#session-sign-out").addEventListener("click", signOut);
  // Escape closes a modal dialog; treat it as "stay signed in", as GOV.UK's pattern does.
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    form.requestSubmit();
  });
  // Another tab's activity moves this tab's deadline on; another tab signing out ends this one.
  window.addEventListener("storage", (event) => {
    if (event.key === ACTIVITY_KEY) activitySeen(Number(event.newValue) || 0);
    if (event.key === SIGNED_OUT_KEY && event.newValue && !signingOut) toSignIn();
  });
  // This page's own request was activity.
  shared(ACTIVITY_KEY, Date.now());
  schedule();
}

sessionTimeout();
