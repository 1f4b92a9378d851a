-- setup() validates its options with clear messages; the help file's tags are valid.
local H = dofile(vim.env.SPARK_PLUGIN_DIR .. '/tests/helpers.lua')

local function setup_error(opts)
  local ok, err = pcall(require('spark_lsp').setup, opts)
  return not ok and tostring(err) or nil
end

local function expect_error(opts, pattern, what)
  local err = setup_error(opts)
  H.check(err ~= nil and err:find(pattern, 1, true) ~= nil, what, err)
end

--- Every default key, in either table, bound to one action only (insert mode holds both).
local function distinct_default_keys()
  local config = require('spark_lsp.config')
  local seen = {}
  for _, keymaps in ipairs({ config.default_keymaps, config.default_next_edit_keymaps }) do
    for action, lhs in pairs(keymaps) do
      local key = vim.keycode(lhs)
      if seen[key] then
        return false, ('%s is the default of both %s and %s'):format(lhs, seen[key], action)
      end
      seen[key] = action
    end
  end
  return true
end

H.run(function()
  local distinct, clash = distinct_default_keys()
  H.check(distinct, 'the default keys are all distinct', clash)
  expect_error({ keymap = {} }, 'spark_lsp: unknown option "keymap" (did you mean "keymaps"?)',
    'an unknown option is named, with a suggestion')
  expect_error({ cmd = 'spark-lsp --stdio' }, 'spark_lsp: option cmd:',
    'cmd must be a list or a function')
  expect_error({ cmd = {} }, 'spark_lsp: option cmd:', 'cmd must not be empty')
  expect_error({ filetypes = { 'python', 3 } }, 'item 2 is a number',
    'a filetype that is not a string is pointed at')
  expect_error({ settings = 'x' }, 'spark_lsp: option settings:', 'settings must be a table')
  expect_error({ keymaps = { accept = 1 } }, 'keymaps.accept: expected a key string or false, got 1',
    'a keymap must be a string or false')
  expect_error({ keymaps = { acept = '<Tab>' } }, 'option keymaps: expected actions among accept, accept_line, accept_word, dismiss, next, prev, got "acept"',
    'an unknown keymap action is refused')
  expect_error({ inline_completion = 'yes' }, 'spark_lsp: option inline_completion:',
    'inline_completion must be a boolean')
  expect_error('nope', 'spark_lsp: setup() opts:', 'options must be a table')
  H.check(vim.lsp.config.spark_lsp == nil or vim.lsp.config.spark_lsp.cmd == nil,
    'a failed setup() registers nothing')

  H.check(setup_error({ keymaps = { accept = '<Tab>', dismiss = false } }) == nil,
    'partial keymaps are accepted')
  local spark = require('spark_lsp')
  H.check(spark.options.keymaps.accept == '<Tab>' and spark.options.keymaps.next == '<M-]>'
    and spark.options.keymaps.dismiss == false, 'keymaps merge over the defaults',
    spark.options.keymaps)
  local registered = vim.lsp.config.spark_lsp
  H.check(registered and vim.deep_equal(registered.cmd, { 'spark-lsp', '--stdio' })
    and registered.settings.spark ~= nil, 'setup() registers the config with settings.spark')
  H.check(vim.fn.exists(':SparkEdit') == 2 and vim.fn.exists(':SparkStatus') == 2
    and vim.fn.exists(':SparkToggle') == 2, 'user commands exist')
  H.check(setup_error({ keymaps = false, settings = { model = { name = 'm' } } }) == nil,
    'keymaps = false is accepted')
  H.check(vim.lsp.config.spark_lsp.settings.spark.model.name == 'm',
    'settings are passed as settings.spark')

  -- :SparkEdit's range: exact characters after a charwise selection (UTF-16 offsets), whole
  -- lines otherwise.
  vim.api.nvim_buf_set_lines(0, 0, -1, true, { 'aé€xyz', 'second' })
  vim.cmd('exe "normal! gg0lvll\\<Esc>"')
  local function range(cmd, encoding)
    local r = spark.command_range(0, cmd, encoding or 'utf-16')
    return { r.start.line, r.start.character, r['end'].line, r['end'].character }
  end
  H.check(vim.deep_equal(range({ range = 2, line1 = 1, line2 = 1 }), { 0, 1, 0, 4 }),
    'a charwise selection becomes its exact UTF-16 range', range({ range = 2, line1 = 1, line2 = 1 }))
  H.check(vim.deep_equal(range({ range = 2, line1 = 1, line2 = 1 }, 'utf-8'), { 0, 1, 0, 7 }),
    'the range follows the client position encoding')
  H.check(vim.deep_equal(range({ range = 2, line1 = 1, line2 = 2 }), { 0, 0, 1, 6 }),
    'a line range covers whole lines')
  vim.cmd('exe "normal! ggVj\\<Esc>"')
  H.check(vim.deep_equal(range({ range = 2, line1 = 1, line2 = 2 }), { 0, 0, 1, 6 }),
    'a linewise selection covers whole lines')

  -- The help file: tags generate without duplicates (done on a copy: no tags file in the repo).
  local doc = H.dir .. '/doc'
  vim.fn.mkdir(doc, 'p')
  vim.fn.writefile(vim.fn.readfile(H.plugin_dir .. '/doc/spark_lsp.txt'), doc .. '/spark_lsp.txt')
  local ok, err = pcall(vim.cmd.helptags, vim.fn.fnameescape(doc))
  H.check(ok, ':helptags on doc/spark_lsp.txt succeeds', err)
  local tags = table.concat(vim.fn.readfile(doc .. '/tags'), '\n')
  for _, tag in ipairs({ 'spark_lsp.setup()', ':SparkEdit', 'spark_lsp-keymaps' }) do
    H.check(tags:find(tag, 1, true) ~= nil, 'help tag ' .. tag)
  end
end)
