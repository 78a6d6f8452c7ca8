REM export_orders.sql (step 7): the orders as CSV, into orders_export.csv
REM in the folder SQL*Plus runs in. From your lab folder:
REM
REM   labrunner tool oracle sqlplus -S 'USER/"PASSWORD"@//127.0.0.1:1521/FREEPDB1' @export_orders.sql
REM
REM with USER and PASSWORD as the lab shows them. Each line below is a
REM SQL*Plus setting or command, except the SELECT, which goes to the server.

REM CSV instead of SQL*Plus's padded columns, without quotes around text.
SET MARKUP CSV ON QUOTE OFF
REM No "5000 rows selected." line at the end of the file.
SET FEEDBACK OFF
REM In a script, write the rows to the file only, not to the screen too.
SET TERMOUT OFF
REM One page for all rows, so the header line comes once.
SET PAGESIZE 50000
REM Everything shown from here on also goes into this file.
SPOOL orders_export.csv
SELECT order_id, customer_id, total FROM orders ORDER BY order_id;
SPOOL OFF
EXIT
