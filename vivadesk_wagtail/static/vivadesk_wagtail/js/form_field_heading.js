// The heading of an extra form field in the contact page editor follows its
// label and type while the editor types ("Kaufdatum (Datum)"). The server
// renders the same heading for saved rows (vivadesk_wagtail/pages/panels.py).
// The list of choices shows for the types that have choices only (and for
// any field that still has some, so the editor sees what to remove).
(() => {
  class FormFieldHeadingController extends window.StimulusModule.Controller {
    static targets = ['text'];

    static values = {
      prefix: String,
      format: String,
      empty: String,
      choiceTypes: Array,
    };

    connect() {
      this.showChoices();
    }

    showChoices() {
      const panel = this.element.querySelector('.formbuilder-choices');
      if (!panel) return;
      const type = this.input('field_type')?.value || '';
      const count = this.element.querySelector(
        `[name="${this.prefixValue}-options-count"]`,
      );
      const hasChoices = Number(count?.value || 0) > 0;
      panel.hidden = !this.choiceTypesValue.includes(type) && !hasChoices;
    }

    update() {
      this.showChoices();
      const label = (this.input('label')?.value || '').trim();
      if (!label) {
        this.textTarget.textContent = this.emptyValue;
        return;
      }
      const select = this.input('field_type');
      const option = select?.selectedOptions?.[0];
      const type = option?.value ? option.textContent.trim() : '';
      const parts = { label, type };
      this.textTarget.textContent = type
        ? this.formatValue.replace(/\{(label|type)\}/g, (_match, key) => parts[key])
        : label;
    }

    input(name) {
      return document.getElementById(`id_${this.prefixValue}-${name}`);
    }
  }

  window.wagtail.app.register('vd-form-field-heading', FormFieldHeadingController);
})();
