;;; eglot_test.el --- spark-lsp in real Emacs + Eglot, in batch  -*- lexical-binding: t -*-

;; Run by tests/clients/test_emacs.py as
;;   emacs -Q --batch -l eglot_test.el
;; with the environment naming one check:
;;   SPARK_TEST_DIR      the project folder (a .git marker in it); files are written there
;;   SPARK_EMACS_CHECK   load (Eglot loads; nothing else) | completion | code-action |
;;                       declined-edit | failing-action
;;   SPARK_TEST_TIMEOUT_S  the whole run's deadline; every wait below has its own, shorter one
;;   SPARK_EXPECT_LINE   completion: the line the completed text must read
;;   SPARK_TEST_TEXT     completion: the file's text (the cursor goes to its end)
;;
;; Eglot is configured as the README says (eglot-server-programs, eglot-workspace-configuration)
;; and driven through its own commands: `completion-at-point' with
;; `eglot-completion-at-point', `eglot-code-actions' with the pick answered as a user would, and
;; `eglot-shutdown'.  Each check prints "ok: ..." lines; the run ends with "PASS" or
;; "FAIL: why" (exit status 1).  Every message sent to the server is counted by method, so a
;; resolve loop shows as a count, whatever the Eglot version.

(require 'cl-lib)
(require 'subr-x)
(require 'package)
;; Emacs 28 has no Eglot: Debian's elpa-eglot installs it here, activated by Debian's site
;; startup, which -Q skips.  From Emacs 29 it is built in.
(add-to-list 'package-directory-list "/usr/share/emacs/site-lisp/elpa")
(package-initialize)
(unless (require 'eglot nil t)
  (princ (format "FAIL: no Eglot in Emacs %s: Emacs 28 needs the eglot package %s\n"
                 emacs-version "(apt-get install elpa-eglot)"))
  (kill-emacs 1))

(defvar spark-test-dir (file-name-as-directory (getenv "SPARK_TEST_DIR")))
(defvar spark-test-check (getenv "SPARK_EMACS_CHECK"))
(defvar spark-test-deadline
  (+ (float-time) (string-to-number (or (getenv "SPARK_TEST_TIMEOUT_S") "40"))))
(defvar spark-test-sent (make-hash-table :test #'equal)
  "Messages sent to the server, counted by method name.")
(defvar spark-test-prompts nil "The y-or-n-p questions Eglot asked.")
(defvar spark-test-shown nil "The window/showMessage texts the server sent.")
(defvar spark-test-offered nil "The action titles Eglot offered at the last pick.")

;;; Output and failure

(defun spark-test-say (format-string &rest args)
  "Print one line on stdout (batch `message' goes to stderr, interleaved with Eglot's)."
  (princ (concat (apply #'format format-string args) "\n")))

(defun spark-test-ok (format-string &rest args)
  (spark-test-say "ok: %s" (apply #'format format-string args)))

(define-error 'spark-test-failure "spark test failure")

(defun spark-test-fail (format-string &rest args)
  (signal 'spark-test-failure (list (apply #'format format-string args))))

(defun spark-test-wait (what predicate &optional seconds)
  "Process events until PREDICATE returns non-nil; fail naming WHAT after SECONDS (10)."
  (let ((until (min spark-test-deadline (+ (float-time) (or seconds 10))))
        value)
    (while (not (setq value (funcall predicate)))
      (when (> (float-time) until)
        (spark-test-fail "timed out waiting for %s" what))
      (accept-process-output nil 0.05))
    value))

(defun spark-test-settle (seconds)
  "Keep processing events for SECONDS: a loop, if there is one, runs meanwhile."
  (let ((until (+ (float-time) seconds)))
    (while (< (float-time) until)
      (accept-process-output nil 0.05))))

;;; What Eglot sends and is asked

(defun spark-test--method-name (method)
  (string-remove-prefix ":" (format "%s" method)))

(defun spark-test--count-sent (_connection &rest args)
  (when-let ((method (plist-get args :method)))
    (cl-incf (gethash (spark-test--method-name method) spark-test-sent 0))))

(advice-add 'jsonrpc-connection-send :before #'spark-test--count-sent)

(defun spark-test-sent-count (method)
  "How many METHOD messages Eglot sent so far."
  (gethash method spark-test-sent 0))

;; Emacs 28's Eglot asks before applying a server's workspace/applyEdit; the user says yes
;; (the declined-edit check says no).
(defun spark-test--answer (prompt &rest _)
  (push prompt spark-test-prompts)
  (not (equal spark-test-check "declined-edit")))
(advice-add 'y-or-n-p :override #'spark-test--answer)
(advice-add 'yes-or-no-p :override #'spark-test--answer)

(cl-defmethod eglot-handle-notification :before
  (_server (_method (eql window/showMessage)) &key message &allow-other-keys)
  (push message spark-test-shown))

;;; The editor, configured as the README says

(with-eval-after-load 'eglot
  (add-to-list 'eglot-server-programs
               '((python-mode python-ts-mode) . ("spark-lsp" "--stdio"))))
(setq-default eglot-workspace-configuration
              '(:spark (:completion (:debounceMs 0))))
(setq eglot-sync-connect t
      eglot-connect-timeout 20)

(defun spark-test-open (name text)
  "Visit NAME in the project with TEXT, managed by spark-lsp once it is ready."
  (let ((path (expand-file-name name spark-test-dir)))
    (with-temp-file path (insert text))
    (find-file path)
    (unless (eq major-mode 'python-mode)
      (spark-test-fail "%s opened in %s, not python-mode" name major-mode))
    (apply #'eglot (eglot--guess-contact))
    (let ((server (spark-test-wait "Eglot to manage the buffer" #'eglot-current-server 20)))
      (spark-test-wait
       "the server to report ready (spark/stats)"
       (lambda ()
         (equal "ready" (plist-get (plist-get (jsonrpc-request server :spark/stats nil)
                                              :status)
                                   :state)))
       20)
      (spark-test-ok "Eglot manages %s (eglot from %s)" name (locate-library "eglot"))
      server)))

(defun spark-test-line ()
  (buffer-substring-no-properties (line-beginning-position) (line-end-position)))

;;; Checks

(defun spark-test-completion ()
  "Type nothing more: ask `completion-at-point' at the end of the file, as M-TAB does."
  (let ((expected (getenv "SPARK_EXPECT_LINE")))
    (spark-test-open "ops.py" (getenv "SPARK_TEST_TEXT"))
    (goto-char (point-max))
    (let* ((capf (eglot-completion-at-point))
           (start (nth 0 capf))
           (probe (buffer-substring-no-properties start (point)))
           (candidates (all-completions probe (nth 2 capf))))
      (spark-test-say "info: prefix %S, candidates after Eglot's filtering: %S"
                      probe candidates)
      (unless candidates
        (spark-test-fail "no candidate survives Eglot's filtering by %S (line %S)"
                         probe (spark-test-line)))
      (let ((completion-at-point-functions '(eglot-completion-at-point)))
        (completion-at-point))
      (spark-test-wait "the completion to be inserted"
                       (lambda () (equal (spark-test-line) expected)) 5)
      (spark-test-ok "completed: %s" (spark-test-line)))))

(defun spark-test-pick (title)
  "Ask for the actions of the whole buffer and pick TITLE as a user would.
Returns the error message when the pick failed, nil when it went through."
  (let ((last-nonmenu-event ?\r))         ; a keyboard pick, not a popup menu
    (cl-letf (((symbol-function 'completing-read)
               (lambda (_prompt collection &rest _)
                 (setq spark-test-offered (all-completions "" collection))
                 (if (member title spark-test-offered) title
                   (spark-test-fail "%S is not offered; offered: %S"
                                    title spark-test-offered)))))
      (condition-case err
          (progn (eglot-code-actions (point-min) (point-max) nil t) nil)
        (spark-test-failure (signal (car err) (cdr err)))
        (error (error-message-string err))))))

(defconst spark-test-double "def double(x):\n    return x + x\n")
(defconst spark-test-simplified "def double(x):\n    return x * 2\n")

(defun spark-test-code-action ()
  (spark-test-open "double.py" spark-test-double)
  (let ((failed (spark-test-pick "Spark: Simplify")))
    (when failed (spark-test-fail "picking Spark: Simplify failed: %s" failed)))
  (spark-test-wait "the simplified function in the buffer"
                   (lambda () (equal (buffer-string) spark-test-simplified)) 10)
  (spark-test-ok "Spark: Simplify applied: %S" (buffer-string))
  ;; Eglot has no command to prompt for an instruction, and does not announce one.
  (when (cl-some (lambda (title) (string-prefix-p "Spark: Edit selection" title))
                 spark-test-offered)
    (spark-test-fail "Edit selection is offered to Eglot: %S" spark-test-offered))
  (spark-test-ok "Edit selection is not offered (offered: %S)" spark-test-offered)
  (spark-test-say "info: Eglot asked %S" spark-test-prompts))

(defun spark-test-declined-edit ()
  "The user answers no to Eglot's question: the buffer stays, the server shows no error."
  (spark-test-open "double.py" spark-test-double)
  (let ((failed (spark-test-pick "Spark: Simplify")))
    (spark-test-say "info: the pick %s" (if failed (format "failed: %s" failed) "returned")))
  (spark-test-wait "Eglot to ask before editing" (lambda () spark-test-prompts) 10)
  ;; A message about it may go out only as the server reads its next request: send one.
  (spark-test-settle 1)
  (jsonrpc-request (eglot-current-server) :spark/stats nil)
  (spark-test-settle 1)
  (unless (equal (buffer-string) spark-test-double)
    (spark-test-fail "the declined edit was applied: %S" (buffer-string)))
  (spark-test-ok "declined: the buffer is unchanged")
  (when spark-test-shown
    (spark-test-fail "the server showed %S for a declined edit" spark-test-shown))
  (spark-test-ok "the server showed no message for the declined edit"))

(defconst spark-test-half "def half(x):\n    return x / 2\n")

(defun spark-test-model-requests ()
  "The model requests spark-lsp has sent so far (its spark/stats)."
  (let ((stats (jsonrpc-request (eglot-current-server) :spark/stats nil)))
    (or (plist-get (plist-get stats :model) :requests) 0)))

(defun spark-test-failing-action ()
  "The model cannot compute the edit: one pick, no loop, the buffer unchanged."
  (spark-test-open "half.py" spark-test-half)
  (let ((requests (spark-test-model-requests))
        (failed (spark-test-pick "Spark: Add docstring/comments")))
    (spark-test-say "info: the pick %s" (if failed (format "failed: %s" failed) "returned"))
    (spark-test-settle 3)
    (let ((resolves (spark-test-sent-count "codeAction/resolve"))
          (commands (spark-test-sent-count "workspace/executeCommand"))
          (calls (- (spark-test-model-requests) requests)))
      (spark-test-say "info: sent %d codeAction/resolve, %d workspace/executeCommand"
                      resolves commands)
      (spark-test-say "info: %d window/showMessage: %S"
                      (length spark-test-shown) spark-test-shown)
      (unless (<= (+ resolves commands) 1)
        (spark-test-fail "one pick sent %d resolve and %d executeCommand requests"
                         resolves commands))
      (spark-test-ok "one pick sent one request (%d resolve, %d executeCommand)"
                     resolves commands)
      (spark-test-say "info: spark-lsp counted %d model request(s) for the pick" calls)))
  (unless (equal (buffer-string) spark-test-half)
    (spark-test-fail "the buffer changed: %S" (buffer-string)))
  (spark-test-ok "the buffer is unchanged"))

;;; Shutdown

(defun spark-test-children (pid)
  "Process ids whose parent is PID."
  (cl-loop for child in (list-system-processes)
           when (eql pid (alist-get 'ppid (process-attributes child)))
           collect child))

(defun spark-test-gone-p (pid)
  (let ((attributes (process-attributes pid)))
    (or (null attributes) (equal "Z" (alist-get 'state attributes)))))

(defun spark-test-shutdown ()
  "`eglot-shutdown' leaves neither spark-lsp nor the model server it started running."
  (let* ((server (eglot-current-server))
         (pid (process-id (jsonrpc--process server)))
         (pids (cons pid (spark-test-children pid))))
    (spark-test-say "info: spark-lsp pid %d, its children %S" pid
                    (mapcar (lambda (child) (alist-get 'args (process-attributes child)))
                            (cdr pids)))
    (eglot-shutdown server)
    (spark-test-wait (format "processes %S to exit" pids)
                     (lambda () (cl-every #'spark-test-gone-p pids)) 10)
    (spark-test-ok "after eglot-shutdown no process is left (%d checked)" (length pids))))

;;; Main

(let ((status 1))
  ;; An error in a timer is only logged, so the watchdog ends the run itself.
  (run-at-time (max 1 (- spark-test-deadline (float-time))) nil
               (lambda ()
                 (spark-test-say "FAIL: the run passed its deadline (SPARK_TEST_TIMEOUT_S)")
                 (kill-emacs 1)))
  (condition-case err
      (progn
        (pcase spark-test-check
          ("load" (spark-test-ok "Eglot loads in Emacs %s" emacs-version))
          ("completion" (spark-test-completion))
          ("code-action" (spark-test-code-action))
          ("failing-action" (spark-test-failing-action))
          ("declined-edit" (spark-test-declined-edit))
          (_ (spark-test-fail "unknown SPARK_EMACS_CHECK %S" spark-test-check)))
        (unless (equal spark-test-check "load") (spark-test-shutdown))
        (spark-test-say "PASS")
        (setq status 0))
    (spark-test-failure (spark-test-say "FAIL: %s" (cadr err)))
    (error (spark-test-say "FAIL: %s" (error-message-string err))))
  (kill-emacs status))

;;; eglot_test.el ends here
