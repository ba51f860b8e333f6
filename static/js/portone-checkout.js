// PortOne's payment window (templates/payments/retainer.html, docs/providers/payments.md "Browser SDK"): loads the
// @portone/browser-sdk bundle served from our static files and calls requestPayment with the request the server
// made (the #portone-checkout JSON). Phones are redirected by PortOne to the request's redirectUrl; on a desktop
// the promise answers here, and the browser goes to the same return URL with paymentId (and code and message when
// the window was closed or the payment failed), where the server asks PortOne what happened.
const config = JSON.parse(document.getElementById("portone-checkout").textContent);
const status = document.querySelector("[data-portone-status]");

function returnWith(answer) {
  const url = new URL(config.returnUrl, window.location.href);
  url.searchParams.set("paymentId", answer.paymentId || config.request.paymentId);
  for (const key of ["code", "message"]) {
    if (answer[key]) {
      url.searchParams.set(key, answer[key]);
    }
  }
  window.location.assign(url.toString());
}

function showUnavailable() {
  status.classList.replace("alert-info", "alert-danger");
  status.setAttribute("role", "alert");
  status.textContent = config.unavailable;
}

async function openWindow() {
  let answer;
  try {
    const { default: PortOne } = await import(config.sdkUrl);
    answer = await PortOne.requestPayment(config.request);
  } catch (error) {
    // A PaymentError has PortOne's code; anything else (PortOne's script did not load) leaves nothing to confirm.
    if (error && error.code) {
      returnWith({ code: error.code, message: error.message });
    } else {
      showUnavailable();
    }
    return;
  }
  if (answer) {
    returnWith(answer);
  }
}

openWindow();
