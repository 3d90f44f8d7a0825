/** Requester page entry point. */
const status = document.getElementById('status');
if (status) status.textContent = 'Ready.';
export {};
