// The app page: exposes the engine's page-side entry points to the Node host
// (window.nclab) and shows the doctor's findings to a person who opens it.

import { runDoctor, type DoctorReport } from '../doctor';

export interface NclabPageApi {
  doctor(): Promise<DoctorReport>;
}

declare global {
  interface Window {
    nclab?: NclabPageApi;
  }
}

window.nclab = { doctor: runDoctor };

const output = document.querySelector('#doctor');
const button = document.querySelector('#run-doctor');
button?.addEventListener('click', () => {
  if (output) output.textContent = 'running…';
  void runDoctor().then((report) => {
    if (output) output.textContent = JSON.stringify(report, null, 2);
  });
});
